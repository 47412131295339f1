import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitedChildrenCpuSeconds } from '../cpu';
import {
  Call,
  DriveResult,
  DriveSpec,
  errorCode,
  generatorUse,
  Latency,
  percentiles,
} from '../drive-spec';
import { generatorBinary } from './generators';

/** One line of `vegeta encode -to json`. */
interface VegetaResult {
  readonly seq: number;
  readonly code: number;
  /** RFC 3339 with nanoseconds: when the request left. */
  readonly timestamp: string;
  /** Nanoseconds from leaving to the answer. */
  readonly latency: number;
  readonly error: string;
  /** Base64. */
  readonly body: string | null;
}

/** What an open-model run adds: how far behind its schedule the generator sent. */
export interface OpenModelResult extends DriveResult {
  /** Milliseconds each request left after it was due (the generator's own lag). */
  readonly scheduleLagMs: Latency;
}

/**
 * An open model driven by vegeta: request i is due at start + i / rate whatever the answers,
 * each index once (`-lazy` reads the targets in order and stops at their end), bounded by
 * `maxSeconds`; at most `connections` requests in flight (vegeta's workers). When the server
 * (or the machine) holds them all, vegeta sends late; the latency is therefore measured from the
 * instant each request was due, not from when it left, so that wait is counted
 * (coordinated omission), and the lag itself is reported.
 */
export async function driveVegeta(spec: DriveSpec): Promise<OpenModelResult> {
  const vegeta = generatorBinary('vegeta');
  if (!vegeta) throw new Error('vegeta is not installed (load-tests/generators/install.sh)');
  const rate = spec.rate;
  if (rate === undefined) throw new Error('vegeta drives open-model runs: give a rate');
  const dir = mkdtempSync(join(tmpdir(), 'flashdrop-vegeta-'));
  try {
    const targets = join(dir, 'targets.jsonl');
    await writeTargets(targets, spec.origin, spec.count, spec.call);
    const results = join(dir, 'results.bin');
    const load0 = loadavg()[0];
    const cpu0 = exitedChildrenCpuSeconds();
    const workers = Math.max(1, Math.min(spec.connections, spec.count));
    await run(vegeta, [
      'attack',
      '-format=json',
      '-lazy',
      `-targets=${targets}`,
      `-rate=${Math.round(rate)}/1s`,
      `-duration=${Math.ceil(spec.maxSeconds)}s`,
      `-workers=${Math.min(workers, 100)}`,
      `-max-workers=${workers}`,
      '-timeout=10s',
      '-max-body=2048',
      `-output=${results}`,
    ]);
    const cpu = exitedChildrenCpuSeconds() - cpu0;
    const load1 = loadavg()[0];
    const r = await readResults(vegeta, results, spec, rate);
    return { ...r, load: [load0, load1], generator: generatorUse('vegeta', cpu, r.seconds) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The attack's results, decoded by `vegeta encode` and read line by line. */
async function readResults(
  vegeta: string,
  file: string,
  spec: DriveSpec,
  rate: number,
): Promise<Omit<OpenModelResult, 'load' | 'generator'>> {
  const rows: { seq: number; sentAt: number; latencyMs: number }[] = [];
  const statuses: Record<string, number> = {};
  const codes: Record<string, number> = {};
  const keep = new Set(spec.keepBodies ?? []);
  const bodies: string[] = [];
  const lastAnsweredAt: Record<string, number> = {};
  let failures = 0;
  const child = spawn(vegeta, ['encode', '-to=json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line) continue;
    const v = JSON.parse(line) as VegetaResult;
    // The targets' end: the last worker's "no targets" is not a request.
    if (v.code === 0 && /no targets/i.test(v.error)) continue;
    if (v.code === 0) {
      failures++;
      continue;
    }
    const sentAt = epochMs(v.timestamp);
    const latencyMs = v.latency / 1e6;
    rows.push({ seq: v.seq, sentAt, latencyMs });
    const status = String(v.code);
    statuses[status] = (statuses[status] ?? 0) + 1;
    lastAnsweredAt[status] = Math.max(lastAnsweredAt[status] ?? 0, sentAt + latencyMs);
    const body = v.body ? Buffer.from(v.body, 'base64').toString() : '';
    if (v.code >= 400) {
      const code = errorCode(body);
      codes[code] = (codes[code] ?? 0) + 1;
    }
    if (keep.has(v.code)) bodies.push(body);
  }
  await new Promise((done) => child.on('exit', done));

  // Request `seq` was due at start + seq / rate. The pacer never sends early, so the start is
  // the earliest (left - seq / rate); what a request waited is then (answered - due).
  const interval = 1000 / rate;
  let start = Infinity;
  for (const r of rows) start = Math.min(start, r.sentAt - r.seq * interval);
  const fromDue = new Float64Array(rows.length);
  const lag = new Float64Array(rows.length);
  let lastAt = start;
  rows.forEach((r, i) => {
    const due = start + r.seq * interval;
    fromDue[i] = r.sentAt + r.latencyMs - due;
    lag[i] = r.sentAt - due;
    lastAt = Math.max(lastAt, r.sentAt + r.latencyMs);
  });
  const seconds = rows.length ? (lastAt - start) / 1000 : 0;
  const lastAnswerSeconds: Record<string, number> = {};
  for (const [status, at] of Object.entries(lastAnsweredAt)) {
    lastAnswerSeconds[status] = (at - start) / 1000;
  }
  const requested = rows.length + failures;
  return {
    requested,
    answered: rows.length,
    seconds,
    rate: seconds > 0 ? rows.length / seconds : 0,
    statuses,
    codes,
    latencyMs: percentiles(fromDue),
    scheduleLagMs: percentiles(lag),
    failures: failures + Math.max(0, spec.count - requested),
    stoppedEarly: requested < spec.count,
    bodies,
    lastAnswerSeconds,
  };
}

function run(bin: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`${bin} ${args[0]} exited ${code}: ${stderr}`)),
    );
  });
}

/** vegeta's JSON targets, one a line, in index order. */
async function writeTargets(
  file: string,
  origin: string,
  count: number,
  call: (i: number) => Call,
): Promise<void> {
  const stream = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const c = call(i);
    const header: Record<string, string[]> = { 'Content-Type': ['application/json'] };
    if (c.headers?.authorization) header.Authorization = [c.headers.authorization];
    const line = JSON.stringify({
      method: c.method ?? 'POST',
      url: `${origin}${c.path}`,
      body: Buffer.from(c.body ?? '').toString('base64'),
      header,
    });
    if (!stream.write(`${line}\n`)) await new Promise<void>((r) => stream.once('drain', () => r()));
  }
  await new Promise<void>((done, fail) => stream.end((e?: Error | null) => (e ? fail(e) : done())));
}

/** Milliseconds since the epoch of an RFC 3339 time with up to nanoseconds. */
export function epochMs(rfc3339: string): number {
  const m = /^(.+T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) return NaN;
  return Date.parse(`${m[1]}${m[3]}`) + Number(`0${m[2] ?? ''}`) * 1000;
}
