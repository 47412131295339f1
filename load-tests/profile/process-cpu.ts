/**
 * CPU time per operation of every process that takes part in a measured phase: the stack's
 * services (from their pid files), the Redis server, PostgreSQL (the backends connected to the
 * stack's database, and every postgres process of the cluster), and the measuring process
 * itself. A rate moves with whatever else the shared machine runs; the CPU a process spends
 * per operation barely does, so this is the figure to compare before and after a change.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { Client } from 'pg';
import { cpuSeconds, pidFromFile, redisPid } from '../runner/cpu';

const SERVICES = ['api', 'wallet', 'worker', 'analytics'] as const;

export interface CpuSnapshot {
  readonly at: number;
  readonly perProcess: Map<string, number>;
}

export class ProcessCpu {
  private constructor(
    private readonly pids: Map<string, number>,
    private readonly redisPid: number | undefined,
    private readonly pg: Client,
  ) {}

  /** runDir: where services.sh keeps the stack's pid files (e.g. .data/run/test-2). */
  static async open(runDir: string, redis: Redis, databaseUrl: string): Promise<ProcessCpu> {
    const pids = new Map<string, number>();
    for (const svc of SERVICES) {
      const pid = pidFromFile(join(runDir, `${svc}.pid`));
      if (pid !== undefined) pids.set(svc, pid); // a stack without this service: not measured
    }
    const serverPid = await redisPid(redis);
    const pg = new Client({ connectionString: databaseUrl, application_name: 'measure-cpu' });
    await pg.connect();
    return new ProcessCpu(pids, serverPid, pg);
  }

  async snapshot(): Promise<CpuSnapshot> {
    const perProcess = new Map<string, number>();
    for (const [name, pid] of this.pids) perProcess.set(name, cpuSeconds(pid));
    perProcess.set('redis (whole server)', cpuSeconds(this.redisPid));
    const { rows } = await this.pg.query<{ pid: number; app: string }>(
      `SELECT pid, application_name AS app FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    // Backends are keyed by pid so a backend that connects during the phase counts from zero.
    for (const { pid, app } of rows) perProcess.set(`pg:${app || '?'}:${pid}`, cpuSeconds(pid));
    perProcess.set('postgres (whole cluster)', postgresClusterSeconds());
    const self = process.cpuUsage();
    perProcess.set('load generator (this process)', (self.user + self.system) / 1e6);
    return { at: Date.now(), perProcess };
  }

  /** CPU microseconds per operation between two snapshots, one line per process. */
  static report(before: CpuSnapshot, after: CpuSnapshot, operations: number): string[] {
    const lines: string[] = [];
    let backends = 0;
    const byApp = new Map<string, number>();
    for (const [name, end] of after.perProcess) {
      const start = before.perProcess.get(name) ?? 0;
      if (name.startsWith('pg:')) {
        if (!Number.isFinite(end)) continue;
        backends += end - start;
        const app = name.slice(3, name.lastIndexOf(':'));
        byApp.set(app, (byApp.get(app) ?? 0) + end - start);
        continue;
      }
      lines.push(row(name, end - start, operations));
    }
    const pgLines = [row("postgres (this stack's backends)", backends, operations)];
    for (const [app, secs] of byApp) {
      if (secs > 0) pgLines.push(row(`  of which ${app}`, secs, operations));
    }
    lines.splice(lines.length - 2, 0, ...pgLines);
    const secs = (after.at - before.at) / 1000;
    lines.push(`  (${operations} operations in ${secs.toFixed(2)} s)`);
    return lines;
  }

  async close(): Promise<void> {
    await this.pg.end();
  }
}

function row(name: string, seconds: number, operations: number): string {
  const us = (seconds * 1e6) / Math.max(1, operations);
  return `  ${name.padEnd(34)} ${Number.isFinite(us) ? us.toFixed(0).padStart(6) : '   n/a'} us/op`;
}

/** CPU seconds of every process named postgres (the cluster is shared: others' work shows). */
function postgresClusterSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      total += cpuSeconds(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}
