import { createRedis } from '@flashdrop/persistence';
import { testConfig, uniqueId } from '@flashdrop/testing';
import { createRedlock, SingletonLoop } from './singleton-loop';

/** The redlock lease of the worker's singletons, on the real Redis. */
describe('SingletonLoop', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs in one instance at a time and passes to another when the holder dies', async () => {
    const resource = `locks:test:${uniqueId('loop')}`;
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
});
