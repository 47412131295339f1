#!/usr/bin/env node
// Runs N instances of one built service behind its one port, with Node's cluster module: the
// primary (this process) accepts each connection and hands it to an instance in turn
// (round-robin), after which the bytes flow between the client and that instance directly.
// Every instance is the unchanged service (its own Redis, PostgreSQL and Kafka connections, its
// own memory), so what holds across machines holds here: singletons under their leases, Kafka
// consumer groups sharing partitions, per-process state (the grab rate limit) N times over.
//
// Usage: node scripts/instances.js --count=N [--name=NAME] <main.js> [args...]
//   --count=N   instances to run (1..64)
//   --name=NAME the service's name in log lines (default: the main file's folder)
// The primary restarts an instance that dies (after 1 s, doubling up to 10 s while it keeps
// dying within 10 s of its start) and gives up, exiting 1, when instances crash 5 times in a
// row without one of them lasting 10 s. SIGTERM or SIGINT stops every instance (SIGTERM, then
// SIGKILL after 15 s) and then the primary. If the primary itself is killed (kill -9), each
// instance sees its IPC channel close and exits (Node's cluster workers do so by default).
'use strict';
const cluster = require('node:cluster');
const { basename, dirname, resolve } = require('node:path');

const USAGE = `usage: node scripts/instances.js --count=N [--name=NAME] <main.js> [args...]`;
const STABLE_MS = 10_000;
const MAX_CRASH_STREAK = 5;
const STOP_GRACE_MS = 15_000;

function parse(argv) {
  const opts = { count: undefined, name: undefined, main: undefined, args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (opts.main !== undefined) opts.args.push(a);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--count=')) opts.count = Number(a.slice('--count='.length));
    else if (a.startsWith('--name=')) opts.name = a.slice('--name='.length);
    else if (a.startsWith('-')) fail(`unknown flag ${a}`);
    else opts.main = a;
  }
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 64)
    fail('--count must be an integer 1..64');
  if (opts.main === undefined) fail('the service main file is missing');
  opts.main = resolve(opts.main);
  opts.name ??= basename(dirname(opts.main));
  return opts;
}

function fail(message) {
  console.error(`instances: ${message}\n${USAGE}`);
  process.exit(2);
}

function log(name, message) {
  process.stdout.write(
    `${JSON.stringify({ time: Date.now(), name: `${name}-instances`, msg: message })}\n`,
  );
}

function runPrimary(opts) {
  cluster.setupPrimary({ exec: opts.main, args: opts.args });
  let stopping = false;
  let stopCode = 0;
  let crashStreak = 0;
  const startedAt = new Map();

  const fork = (index) => {
    // INSTANCE_INDEX tells an instance which one it is (logs); the services do not need it.
    const worker = cluster.fork({ INSTANCE_INDEX: String(index) });
    startedAt.set(worker.id, { index, at: Date.now() });
  };

  cluster.on('exit', (worker, code, signal) => {
    const { index, at } = startedAt.get(worker.id);
    startedAt.delete(worker.id);
    if (stopping) {
      if (startedAt.size === 0) process.exit(stopCode);
      return;
    }
    const lived = Date.now() - at;
    crashStreak = lived >= STABLE_MS ? 1 : crashStreak + 1;
    if (crashStreak >= MAX_CRASH_STREAK) {
      log(opts.name, `instance ${index} died ${crashStreak} times in a row; giving up`);
      stop(1);
      return;
    }
    const delay = Math.min(1000 * 2 ** (crashStreak - 1), 10_000);
    log(
      opts.name,
      `instance ${index} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}) after ${lived} ms; restarting in ${delay} ms`,
    );
    setTimeout(() => {
      if (!stopping) fork(index);
    }, delay);
  });

  const stop = (exitCode) => {
    if (stopping) return;
    stopping = true;
    stopCode = exitCode;
    log(opts.name, `stopping ${startedAt.size} instance(s)`);
    if (startedAt.size === 0) process.exit(exitCode);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(exitCode);
    }, STOP_GRACE_MS).unref();
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  log(opts.name, `starting ${opts.count} instance(s) of ${opts.main}`);
  for (let i = 0; i < opts.count; i++) fork(i);
}

if (require.main === module) {
  if (!cluster.isPrimary) throw new Error('scripts/instances.js runs only as the primary');
  runPrimary(parse(process.argv.slice(2)));
}
