import type Redis from 'ioredis';
import { existsSync, readFileSync } from 'node:fs';

/** A pid from a pid file; undefined when the file is absent or unreadable. */
export function pidFromFile(file: string | undefined): number | undefined {
  if (!file || !existsSync(file)) return undefined;
  return Number(readFileSync(file, 'utf8').trim()) || undefined;
}

/** The process id of a Redis server (its CPU is part of what a request costs). */
export async function redisPid(redis: Redis): Promise<number | undefined> {
  const pid = /process_id:(\d+)/.exec(await redis.info('server'))?.[1];
  return pid ? Number(pid) : undefined;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  return statTicks(`/proc/${pid}/stat`, 11, 12);
}

/**
 * CPU seconds of this process's children that have exited and been waited for (Node reaps them),
 * from /proc/self/stat: what a load generator run as a child used over its whole life, read
 * after it exited (its own /proc entry is gone by then).
 */
export function exitedChildrenCpuSeconds(): number {
  return statTicks('/proc/self/stat', 13, 14);
}

function statTicks(file: string, a: number, b: number): number {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[a]) + Number(fields[b]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * CPU time a process spends per request over a run: what the machine's other load cannot
 * distort much, unlike a rate (a process that waits for the CPU does not consume it).
 */
export async function cpuPerRequest<T>(
  pid: number | undefined,
  run: () => Promise<T>,
  requests: (result: T) => number,
): Promise<{ result: T; cpuUsPerRequest: number }> {
  const before = cpuSeconds(pid);
  const result = await run();
  const used = cpuSeconds(pid) - before;
  return { result, cpuUsPerRequest: (used * 1e6) / Math.max(1, requests(result)) };
}
