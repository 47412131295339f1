// Where the time went, from a .cpuprofile: self time by package/area and by function.
//   node -r ts-node/register/transpile-only load-tests/profile/summarize.ts FILE [TOP] [FN...] [--inclusive] [--stages[=US]]
// (each FN: its callers too; --inclusive: also the total time under each function, of busy time;
// --stages=US: busy time by stage of a request, and in us per request given /proc's US)
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The area a frame belongs to: a package, our own code, Node's internals, GC, idle. */
export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(program)') return '(program: native, not JS)';
    return `(native) ${functionName}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /(apps|libs)\/[^/]+/.exec(url);
  if (own) return own[0];
  if (url.includes('webpack:')) return 'bundle (other)';
  return url.split('/').slice(-2).join('/');
}

export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${area}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const table = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${pct(us)}  ${k}`)
      .join('\n');
  return [
    `profile: ${(total / 1e6).toFixed(2)} s sampled`,
    '',
    'self time by area',
    table(areas),
    '',
    'self time by function',
    table(fns),
  ].join('\n');
}

/** Who calls `fn`: its self time by the chain of its nearest callers (depth frames). */
export function callersOf(profile: CpuProfile, fn: string, depth = 4, top = 5): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + profile.timeDeltas[i]));
  const chains = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.callFrame.functionName !== fn) continue;
    const chain: string[] = [];
    for (let q = parent.get(n.id), k = 0; q !== undefined && k < depth; q = parent.get(q), k++) {
      const f = byId.get(q)!.callFrame;
      chain.push(
        `${f.functionName || '(anonymous)'} ${areaOf(f.url, f.functionName)}:${f.lineNumber + 1}`,
      );
    }
    const key = chain.join(' < ');
    chains.set(key, (chains.get(key) ?? 0) + (selfUs.get(n.id) ?? 0));
  }
  return [...chains.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${(us / 1000).toFixed(0).padStart(6)} ms  ${fn} < ${k}`)
    .join('\n');
}

/**
 * Total time by function: each sample counted once for every distinct function on its stack
 * (a recursive one once), so a handler's figure includes everything it called. Shares are of
 * the busy samples (idle left out): the breakdown of the work per request.
 */
export function inclusive(profile: CpuProfile, top = 40): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${areaOf(f.url, f.functionName)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  const stackKeys = new Map<number, string[]>();
  const keysOf = (id: number): string[] => {
    let keys = stackKeys.get(id);
    if (!keys) {
      const set = new Set<string>();
      for (let q: number | undefined = id; q !== undefined; q = parent.get(q)) set.add(keyOf(q));
      keys = [...set];
      stackKeys.set(id, keys);
    }
    return keys;
  };
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const fn = byId.get(id)?.callFrame.functionName;
    if (fn === '(idle)') return;
    const us = profile.timeDeltas[i] ?? 0;
    busy += us;
    for (const key of keysOf(id)) totals.set(key, (totals.get(key) ?? 0) + us);
  });
  const rows = [...totals.entries()]
    .filter(([k]) => !k.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${((us / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
  return [`total time by function (share of ${(busy / 1e6).toFixed(2)} s busy)`, ...rows].join(
    '\n',
  );
}

/**
 * The stages a request's work falls into, API and floor alike: each busy sample goes to the
 * token check when `verifyHeader` is on its stack, else to the area of its nearest JS frame
 * (a native call counts for whoever called it). Checked in this order.
 */
const STAGES: readonly [stage: string, area: RegExp][] = [
  ['ioredis', /^(ioredis|redis-parser|standard-as-callback|denque|cluster-key-slot)$/],
  ["Nest's adapter and middie hooks", /^(@nestjs\/|@fastify\/middie)/],
  ['prom-client (metrics)', /^prom-client$/],
  ['Fastify (routing, hooks, JSON parse and serialize)', /fastify|find-my-way|secure-json-parse/],
  ["Node's HTTP, streams, sockets, async hooks", /^node:/],
];

/**
 * Busy time by stage (STAGES), as shares and, given the process's CPU per request from /proc
 * (`usPerRequest`), as microseconds per request: the profile says where, /proc how much.
 */
export function stages(profile: CpuProfile, usPerRequest?: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = (id: number): string | undefined => {
    const leaf = byId.get(id)!.callFrame;
    if (!leaf.url && leaf.functionName === '(idle)') return undefined;
    if (!leaf.url && leaf.functionName === '(garbage collector)') return 'GC';
    for (let q: number | undefined = id; q !== undefined; q = parent.get(q)) {
      if (byId.get(q)!.callFrame.functionName === 'verifyHeader') return 'token check';
    }
    for (let q: number | undefined = id; q !== undefined; q = parent.get(q)) {
      const f = byId.get(q)!.callFrame;
      if (!f.url) continue;
      const area = areaOf(f.url, f.functionName);
      return STAGES.find(([, pattern]) => pattern.test(area))?.[0] ?? 'our code (handler, checks)';
    }
    return 'native, not JS';
  };
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const stage = stageOf(id);
    if (!stage) return;
    const us = profile.timeDeltas[i] ?? 0;
    busy += us;
    totals.set(stage, (totals.get(stage) ?? 0) + us);
  });
  const rows = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([stage, us]) => {
      const share = `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
      const per = usPerRequest ? `  ${((usPerRequest * us) / busy).toFixed(1).padStart(6)} us` : '';
      return `${share}${per}  ${stage}`;
    });
  return [`busy time by stage (${(busy / 1e6).toFixed(2)} s busy)`, ...rows].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const totals = args.includes('--inclusive');
  const stagesArg = args.find((a) => a.startsWith('--stages'));
  const [file, top, ...callers] = args.filter((a) => !a.startsWith('--'));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  console.log(summarize(profile, Number(top ?? '25')));
  if (totals) console.log(`\n${inclusive(profile, Number(top ?? '25') * 2)}`);
  if (stagesArg) console.log(`\n${stages(profile, Number(stagesArg.split('=')[1]) || undefined)}`);
  for (const fn of callers) console.log(`\ncallers of ${fn}\n${callersOf(profile, fn)}`);
}
