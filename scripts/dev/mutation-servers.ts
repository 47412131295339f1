/**
 * The servers a mutation run's suites start (scripts/dev/mutate-lua.ts), kept where the run can
 * find every one of them again: jest runs with FLASHDROP_DATA_DIR set to a directory of the
 * run's own, so each dedicated server a test starts (infra/redis.sh, infra/postgres.sh) keeps
 * its pidfile there. A file killed mid-run (jest --bail, a timeout, the run itself stopped)
 * never reaches its afterAll; what it started is stopped from those pidfiles, and only those:
 * the shared servers and other slots' servers keep theirs elsewhere.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What a pidfile of ours may name; anything else there is a reused pid, never ours to kill. */
const OUR_SERVERS = /(^|\/)(redis-server|postgres)( |$)/;

/** The pid a pidfile names (redis.pid: the pid; postmaster.pid: the pid on its first line). */
function pidIn(file: string): number | undefined {
  const first = readFileSync(file, 'utf8').split('\n')[0].trim();
  return /^\d+$/.test(first) ? Number(first) : undefined;
}

/** The command line of a live, non-zombie process, or undefined. */
function commandOf(pid: number): string | undefined {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
    if (state === 'Z' || state === 'X') return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

function pidfilesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return pidfilesUnder(path);
    return name.endsWith('.pid') ? [path] : [];
  });
}

/** The live servers whose pidfiles lie under `dir`: `pid` and what it runs. */
export function serversUnder(dir: string): { pid: number; command: string }[] {
  const found = new Map<number, string>();
  for (const file of pidfilesUnder(dir)) {
    const pid = pidIn(file);
    const command = pid === undefined ? undefined : commandOf(pid);
    if (pid !== undefined && command !== undefined && OUR_SERVERS.test(command)) {
      found.set(pid, command);
    }
  }
  return [...found].map(([pid, command]) => ({ pid, command }));
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone meanwhile: what was wanted.
  }
}

/**
 * Stops every server left under `dir`: SIGTERM (Redis and PostgreSQL shut down cleanly on it),
 * then SIGKILL for any still there after `graceMs`. Synchronous (a busy wait of at most
 * `graceMs`), so it also runs from an exit handler. Answers what it stopped, for the log.
 */
export function stopServersUnder(dir: string, graceMs = 10_000): string[] {
  const servers = serversUnder(dir);
  for (const s of servers) signal(s.pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  let left = servers;
  while (left.length > 0 && Date.now() < until) {
    left = left.filter((s) => commandOf(s.pid) !== undefined);
    if (left.length > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  for (const s of left) signal(s.pid, 'SIGKILL');
  return servers.map((s) => `${s.pid} ${s.command}`);
}
