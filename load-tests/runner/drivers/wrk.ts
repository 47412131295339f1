import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from '../cpu';
import { Call, DriveResult, DriveSpec, generatorUse } from '../drive-spec';
import { generatorBinary, WRK_SCRIPT } from './generators';

/** What load-tests/generators/calls.lua prints at the end (one JSON line). */
interface WrkResult {
  readonly sent: number;
  readonly answered: number;
  readonly statuses: Record<string, number>;
  readonly codes: Record<string, number>;
  /** Monotonic milliseconds (wrk's process clock). */
  readonly lastAt: Record<string, number>;
  readonly firstAt: number;
  readonly errors: { connect: number; read: number; write: number; timeout: number };
  /** The answers' own latencies (calls.lua undoes wrk's correction); absent if it could not. */
  readonly latencyUs?: { p50: number; p95: number; p99: number; max: number; count: number };
  /** wrk's histogram after its correction for coordinated omission. */
  readonly correctedLatencyUs: { p50: number; p95: number; p99: number; max: number };
}

/** wrk threads: one leaves the other core to the servers (and measured the highest ceiling). */
const THREADS = Number(process.env.BENCH_WRK_THREADS ?? '1');

/**
 * A closed loop driven by wrk: `connections` connections, one request in flight each, every
 * index sent exactly once (calls.lua), bounded by `maxSeconds`. The requests are written to a
 * file first and built by wrk before the run; the generator's CPU is read from /proc between
 * wrk's start line and its last thread's end.
 */
export async function driveWrk(spec: DriveSpec): Promise<DriveResult> {
  const wrk = generatorBinary('wrk');
  if (!wrk) throw new Error('wrk is not installed (load-tests/generators/install.sh)');
  if (spec.rate !== undefined) throw new Error('wrk drives closed loops only: no rate');
  const threads = Math.max(1, Math.min(THREADS, spec.count));
  const connections = Math.max(threads, Math.min(spec.connections, spec.count));
  const dir = mkdtempSync(join(tmpdir(), 'flashdrop-wrk-'));
  try {
    const calls = join(dir, 'calls.tsv');
    await writeCalls(calls, spec.count, spec.call);
    const out = join(dir, 'answers');
    const load0 = loadavg()[0];
    const child = spawn(
      wrk,
      [
        `-t${threads}`,
        `-c${connections}`,
        `-d${Math.ceil(spec.maxSeconds)}s`,
        '--timeout',
        '10s',
        '-s',
        WRK_SCRIPT,
        spec.origin,
        '--',
        calls,
        out,
        String(threads),
        String(connections),
        (spec.keepBodies ?? []).join(','),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let threadsReady = 0;
    let threadsDone = 0;
    let cpuAtStart = NaN;
    let cpuAtEnd = NaN;
    // A run stopped by its time bound never reports its end: the last sample stands in.
    let cpuLastSeen = NaN;
    const sampler = setInterval(() => {
      const now = cpuSeconds(child.pid);
      if (!Number.isNaN(now)) cpuLastSeen = now;
    }, 200);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      stdout += text;
      threadsReady += text.split('FLASHDROP-THREAD-READY').length - 1;
      if (threadsReady === threads && Number.isNaN(cpuAtStart)) cpuAtStart = cpuSeconds(child.pid);
      threadsDone += text.split('FLASHDROP-THREAD-DONE').length - 1;
      if (threadsDone === threads && Number.isNaN(cpuAtEnd)) {
        cpuAtEnd = cpuSeconds(child.pid);
        // wrk's main thread sleeps for -d; SIGINT ends the sleep, and it reports at once.
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    clearInterval(sampler);
    if (Number.isNaN(cpuAtEnd)) cpuAtEnd = cpuLastSeen;
    const line = stdout.split('\n').find((l) => l.startsWith('FLASHDROP-RESULT '));
    if (!line) throw new Error(`wrk gave no result (exit ${code}): ${stderr || stdout}`);
    const r = JSON.parse(line.slice('FLASHDROP-RESULT '.length)) as WrkResult;
    const stoppedEarly = threadsDone < threads;
    const lastAts = Object.values(r.lastAt);
    const seconds = lastAts.length ? (Math.max(...lastAts) - r.firstAt) / 1000 : 0;
    const lastAnswerSeconds: Record<string, number> = {};
    for (const [status, at] of Object.entries(r.lastAt)) {
      lastAnswerSeconds[status] = (at - r.firstAt) / 1000;
    }
    const bodies: string[] = [];
    for (let t = 0; t < threads; t++) {
      const file = `${out}.${t}`;
      if (!existsSync(file)) continue;
      for (const body of readFileSync(file, 'utf8').split('\n')) if (body) bodies.push(body);
    }
    // The raw latencies, unless their count does not match the answers (a wrk whose histogram
    // is laid out otherwise): then wrk's corrected ones, which overstate the tail.
    const raw = r.latencyUs && r.latencyUs.count === r.answered ? r.latencyUs : undefined;
    const latency = raw ?? r.correctedLatencyUs;
    const ms = (v: number) => v / 1000;
    return {
      requested: r.sent,
      answered: r.answered,
      seconds,
      rate: seconds > 0 ? r.answered / seconds : 0,
      statuses: r.statuses,
      codes: r.codes,
      latencyMs: {
        p50: ms(latency.p50),
        p95: ms(latency.p95),
        p99: ms(latency.p99),
        max: ms(latency.max),
      },
      // Requests sent and never answered (wrk's own timeout count also counts idle connections);
      // a run stopped by its time bound leaves requests in flight, which are no one's failure.
      failures: stoppedEarly
        ? r.errors.connect + r.errors.read + r.errors.write
        : r.sent - r.answered + r.errors.connect,
      load: [load0, loadavg()[0]],
      stoppedEarly,
      bodies,
      lastAnswerSeconds,
      generator: generatorUse('wrk', cpuAtEnd - cpuAtStart, seconds),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** calls.lua's input: "METHOD<TAB>PATH<TAB>AUTHORIZATION<TAB>BODY", one request a line. */
async function writeCalls(file: string, count: number, call: (i: number) => Call): Promise<void> {
  const stream = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const c = call(i);
    const fields = [c.method ?? 'POST', c.path, c.headers?.authorization ?? '', c.body ?? ''];
    if (fields.some((f) => /[\t\r\n]/.test(f))) {
      throw new Error(`request ${i} has a tab or a line break in a field`);
    }
    if (!stream.write(`${fields.join('\t')}\n`))
      await new Promise<void>((r) => stream.once('drain', () => r()));
  }
  await new Promise<void>((done, fail) => stream.end((e?: Error | null) => (e ? fail(e) : done())));
}
