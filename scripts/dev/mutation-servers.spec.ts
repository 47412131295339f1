import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serversUnder, stopServersUnder } from './mutation-servers';

/**
 * What a mutation run stops: the live servers its own directory's pidfiles name, nothing else.
 * The "servers" are `sleep` processes started under another name (`exec -a`), as a daemonized
 * redis-server or postgres shows in /proc; a pidfile naming any other process (a reused pid)
 * is left alone.
 */
describe('the servers a mutation run left (scripts/dev/mutation-servers.ts)', () => {
  let dir: string;
  const started: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mutation-servers-'));
  });
  afterEach(() => {
    for (const p of started.splice(0)) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** A process whose command line reads `name 60`, its pid in `<dir>/<sub>/<file>`. */
  async function running(name: string, sub: string, file: string): Promise<number> {
    const p = spawn('bash', ['-c', `exec -a ${name} sleep 60`], { stdio: 'ignore' });
    started.push(p);
    await new Promise((resolve) => p.once('spawn', resolve));
    // Until the exec, /proc shows bash: wait for the name.
    for (let i = 0; i < 100 && !(await commandLine(p.pid!)).startsWith(name); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, file), `${p.pid}\n`);
    return p.pid!;
  }

  async function commandLine(pid: number): Promise<string> {
    const { readFile } = await import('node:fs/promises');
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
  }

  const exited = (p: ChildProcess) =>
    new Promise<NodeJS.Signals | null>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) resolve(p.signalCode);
      else p.once('exit', (_code, signal) => resolve(signal));
    });

  it('stops the redis-server and postgres its pidfiles name, with SIGTERM', async () => {
    const redis = await running('redis-server', 'redis-6414', 'redis.pid');
    const postgres = await running('postgres', 'postgres-5507/data', 'postmaster.pid');
    expect(
      serversUnder(dir)
        .map((s) => s.pid)
        .sort(),
    ).toEqual([redis, postgres].sort());

    const stopped = stopServersUnder(dir, 5_000);

    expect(stopped).toHaveLength(2);
    expect(await Promise.all(started.map(exited))).toEqual(['SIGTERM', 'SIGTERM']);
    expect(serversUnder(dir)).toEqual([]);
  });

  it('leaves a process a stale pidfile names that is no server of ours, and dead pids', async () => {
    await running('sleep', 'redis-6424', 'redis.pid');
    writeFileSync(join(dir, 'gone.pid'), '999999999\n');

    expect(serversUnder(dir)).toEqual([]);
    expect(stopServersUnder(dir, 1_000)).toEqual([]);
    expect(started[0].exitCode).toBeNull();
    expect(started[0].signalCode).toBeNull();
  });
});
