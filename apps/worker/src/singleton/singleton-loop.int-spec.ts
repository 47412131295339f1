import { createRedis } from '@flashdrop/persistence';
import { eventually, testConfig, uniqueId } from '@flashdrop/testing';
import { createRedlock, leaseKey, SingletonLoop } from './singleton-loop';

/** The redlock lease of the worker's singletons, on the real Redis. */
describe('SingletonLoop', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs in one instance at a time and passes to another when the holder dies', async () => {
    const resource = leaseKey(`test:${uniqueId('loop')}`);
    const clients = [createRedis(testConfig().REDIS_URL), createRedis(testConfig().REDIS_URL)];
    const ticks = [0, 0];
    const loops = clients.map(
      (client, i) =>
        new SingletonLoop(createRedlock(client), {
          resource,
          leaseMs: 600,
          intervalMs: 30,
          tick: async () => {
            ticks[i] += 1;
          },
        }),
    );
    loops.forEach((l) => l.start());
    await wait(700);
    const leader = ticks[0] > 0 ? 0 : 1;
    const follower = 1 - leader;
    expect(ticks[leader]).toBeGreaterThan(5);
    expect(ticks[follower]).toBe(0);

    // The leader's connection vanishes (as in kill -9): it can neither renew nor release.
    clients[leader].disconnect();
    await loops[leader].stop();
    const before = ticks[follower];
    await wait(1500);
    expect(ticks[follower]).toBeGreaterThan(before + 5);

    await loops[follower].stop();
    clients[follower].disconnect();
  });

  it('leads long-running work in one instance; a lost lease aborts it and another takes over', async () => {
    const resource = leaseKey(`test:${uniqueId('lead')}`);
    const clients = [createRedis(testConfig().REDIS_URL), createRedis(testConfig().REDIS_URL)];
    const leading = [0, 0];
    const aborted = [0, 0];
    const loops = clients.map(
      (client, i) =>
        new SingletonLoop(createRedlock(client), {
          resource,
          leaseMs: 600,
          intervalMs: 50,
          // A relay-like loop: works until its signal says the lease is gone or the loop stops.
          lead: async (signal) => {
            leading[i] += 1;
            while (!signal.aborted) await wait(10);
            aborted[i] += 1;
          },
        }),
    );
    loops.forEach((l) => l.start());
    await wait(1000);
    // Renewed in the background: one lead, never interrupted, in exactly one instance.
    expect(leading.sort()).toEqual([0, 1]);
    const leader = loops[0].isLeader ? 0 : 1;
    expect(loops[leader].isLeader).toBe(true);
    expect(loops[1 - leader].isLeader).toBe(false);
    expect(aborted).toEqual([0, 0]);

    // The leader loses Redis (as in a network cut): its renewal fails, its work is told to stop,
    // and after the lease runs out the other instance leads.
    clients[leader].disconnect();
    expect(await eventually(async () => aborted[leader] === 1, 3000)).toBe(true);
    expect(await eventually(async () => loops[1 - leader].isLeader, 3000)).toBe(true);

    await Promise.all(loops.map((l) => l.stop()));
    expect(aborted[1 - leader]).toBe(1);
    clients[1 - leader].disconnect();
  });
});
