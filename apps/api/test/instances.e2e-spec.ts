import {
  api,
  createDrop,
  errorOf,
  eventually,
  openDropBody,
  REPO_ROOT,
  ServiceProcess,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** CPU time (user + system, clock ticks) a process has used so far. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The instances under scripts/instances.js: the primary's children. */
function instancePids(primary: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(primary)])
    .stdout.toString()
    .trim();
  return out ? out.split('\n').map(Number) : [];
}

/**
 * Two API instances behind one port (scripts/instances.js, Node's cluster module), against the
 * test stack's Redis, wallet and database: connections are spread over both, the sale's
 * invariants hold across them (they meet only in Redis), and an instance killed with kill -9 is
 * replaced while the other keeps answering.
 */
describe('N API instances behind one port (scripts/instances.js)', () => {
  const port = slotPort(3494);
  const baseUrl = `http://127.0.0.1:${port}`;
  const apiProcess = new ServiceProcess('api', { API_PORT: String(port) }, undefined, undefined, 2);

  beforeAll(async () => {
    apiProcess.start();
    await apiProcess.waitForHttp(`${baseUrl}/health/live`);
    expect(await eventually(async () => instancePids(apiProcess.pid!).length === 2)).toBe(true);
  }, 60_000);
  afterAll(() => apiProcess.stop());

  it('serves a rush from both instances: exactly the stock sold, the rest SOLD_OUT', async () => {
    const brand = tokenFor('brand', uniqueId('brand'));
    const drop = await createDrop(openDropBody({ quantity: 100 }), brand);
    const instances = instancePids(apiProcess.pid!);
    const before = instances.map(cpuTicks);
    const fans = Array.from({ length: 400 }, () => tokenFor('fan', uniqueId('fan')));
    const results = await Promise.all(
      fans.map((token) =>
        api('POST', `/v1/drops/${drop.id}/purchases`, { token, body: { quantity: 1 }, baseUrl }),
      ),
    );
    const sold = results.filter((r) => r.status === 201);
    expect(sold).toHaveLength(100);
    expect(results.filter((r) => r.status !== 201).map(errorOf)).toEqual(
      Array.from({ length: 300 }, () => 'SOLD_OUT'),
    );
    const view = await api<{ remaining: number }>('GET', `/v1/drops/${drop.id}`, { baseUrl });
    expect(view.body.remaining).toBe(0);
    // Both instances did part of the work (the primary hands connections out in turn).
    const after = instances.map(cpuTicks);
    expect(after.every((ticks, i) => ticks > before[i])).toBe(true);
  }, 60_000);

  it('replaces an instance killed with kill -9; the other answers meanwhile', async () => {
    const [victim, survivor] = instancePids(apiProcess.pid!);
    process.kill(victim, 'SIGKILL');
    // Every request is answered by the survivor until the replacement is up.
    const during = await Promise.all(
      Array.from({ length: 20 }, () => api('GET', '/health/live', { baseUrl }).catch(() => null)),
    );
    expect(during.filter((r) => r?.status === 200).length).toBeGreaterThan(0);
    expect(
      await eventually(async () => {
        const now = instancePids(apiProcess.pid!);
        return now.length === 2 && now.includes(survivor) && !now.includes(victim);
      }, 20_000),
    ).toBe(true);
    const drop = await createDrop(openDropBody({ quantity: 5 }), tokenFor('brand', uniqueId('b')));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        api('POST', `/v1/drops/${drop.id}/purchases`, {
          token: tokenFor('fan', uniqueId('fan')),
          body: { quantity: 1 },
          baseUrl,
        }),
      ),
    );
    expect(answers.filter((r) => r.status === 201)).toHaveLength(5);
  }, 60_000);

  it('refuses an unknown flag and a bad count, and answers --help', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/instances.js'), ...args]);
    const unknown = run('--bogus', 'dist/apps/api/main.js');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.toString()).toContain('unknown flag --bogus');
    expect(run('--count=0', 'dist/apps/api/main.js').status).toBe(2);
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout.toString()).toContain('--count=N');
  });
});
