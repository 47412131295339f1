import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { eventually, testConfig, uniqueId } from '@flashdrop/testing';
import { createRedlock, leaseKey, SingletonLoop } from './singleton-loop';

/**
 * The redlock lease of the worker's singletons, on the real Redis. Nothing here waits a fixed
 * time and then counts: each step waits for the behaviour itself (ticks seen, a renewal seen, a
 * lease taken over), with leases long enough that a loaded box cannot make a renewal late.
 */
describe('SingletonLoop', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const LEASE_MS = 3000;
  // Whatever a test started is stopped after it, passed or failed, so a failure cannot leave
  // loops running that keep jest from exiting.
  const started: { loops: SingletonLoop[]; clients: RedisClient[] } = { loops: [], clients: [] };
  const client = () => {
    const c = connectRedis(testConfig());
    started.clients.push(c);
    return c;
  };
  const loopOf = (...args: ConstructorParameters<typeof SingletonLoop>) => {
    const loop = new SingletonLoop(...args);
    started.loops.push(loop);
    return loop;
  };
  afterEach(async () => {
    await Promise.all(started.loops.splice(0).map((l) => l.stop()));
    started.clients.splice(0).forEach((c) => c.disconnect());
  });

  it('runs in one instance at a time and passes to another when the holder dies', async () => {
    const resource = leaseKey(`test:${uniqueId('loop')}`);
    const clients = [client(), client()];
    const ticks = [0, 0];
    const loops = clients.map((c, i) =>
      loopOf(createRedlock(c), {
        resource,
        leaseMs: LEASE_MS,
        intervalMs: 30,
        tick: async () => {
          ticks[i] += 1;
        },
      }),
    );
    loops.forEach((l) => l.start());
    expect(await eventually(async () => ticks[0] + ticks[1] > 0, 20_000, 10)).toBe(true);
    const leader = ticks[0] > 0 ? 0 : 1;
    const follower = 1 - leader;
    // Dozens of the follower's tries (one per 30 ms) while the leader works: none may tick.
    expect(await eventually(async () => ticks[leader] >= 30, 20_000, 10)).toBe(true);
    expect(ticks[follower]).toBe(0);

    // The leader's connection vanishes (as in kill -9): it can neither renew nor release.
    clients[leader].disconnect();
    await loops[leader].stop();
    const leaderTicks = ticks[leader];
    expect(await eventually(async () => ticks[follower] >= 5, 20_000)).toBe(true);
    expect(ticks[leader]).toBe(leaderTicks);
  }, 60_000);

  it('leads long-running work in one instance; a lost lease aborts it and another takes over', async () => {
    const resource = leaseKey(`test:${uniqueId('lead')}`);
    const clients = [client(), client()];
    const observer = client();
    const leading = [0, 0];
    const aborted = [0, 0];
    const loops = clients.map((c, i) =>
      loopOf(createRedlock(c), {
        resource,
        leaseMs: LEASE_MS,
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
    expect(await eventually(async () => leading[0] + leading[1] > 0, 20_000, 10)).toBe(true);
    // Renewed in the background: the lease's time to live goes back up at least twice (the lead
    // outlives its first lease), and all the while one lead, never interrupted, in one instance.
    let renewals = 0;
    let lastTtl = await observer.pttl(resource);
    expect(
      await eventually(
        async () => {
          const ttl = await observer.pttl(resource);
          if (ttl > lastTtl) renewals += 1;
          lastTtl = ttl;
          return renewals >= 2;
        },
        30_000,
        50,
      ),
    ).toBe(true);
    expect([...leading].sort()).toEqual([0, 1]);
    const leader = leading[0] === 1 ? 0 : 1;
    expect(loops[leader].isLeader).toBe(true);
    expect(loops[1 - leader].isLeader).toBe(false);
    expect(aborted).toEqual([0, 0]);

    // The leader loses Redis (as in a network cut): its renewal fails, its work is told to stop,
    // and after the lease runs out the other instance leads.
    clients[leader].disconnect();
    expect(await eventually(async () => aborted[leader] === 1, 20_000)).toBe(true);
    expect(await eventually(async () => loops[1 - leader].isLeader, 20_000)).toBe(true);
    expect(await eventually(async () => leading[1 - leader] === 1, 20_000)).toBe(true);

    await Promise.all(loops.map((l) => l.stop()));
    expect(aborted[1 - leader]).toBe(1);
  }, 60_000);
});
