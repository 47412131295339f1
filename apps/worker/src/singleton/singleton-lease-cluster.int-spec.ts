import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  DedicatedRedisCluster,
  eventually,
  PartitionProxy,
  slotPort,
  uniqueId,
} from '@flashdrop/testing';
import { createRedlock, leaseKey, SingletonLoop } from './singleton-loop';

/**
 * The case a Redis Cluster adds to a singleton's lease, on a cluster of the test's own (three
 * primaries with a replica each) through ioredis Cluster, as the worker connects: an instance
 * cut off from the one primary that holds its lease, and from nothing else. Its renewals get no
 * answer at all (no error, no reset), while its writes to the rest of the cluster (a relay's
 * Kafka sends, a sweeper's drops on other primaries) still succeed. The lease runs out, another
 * instance takes it: the cut-off one must have stopped writing before the other's first write.
 * Each instance reaches every node through a proxy of its own (ioredis `natMap`), so one proxy
 * cut is a partition between one instance and one node.
 */
describe('SingletonLoop on a Redis Cluster: a holder cut off from its lease', () => {
  const cluster = new DedicatedRedisCluster(slotPort(8000));
  const LEASE_MS = 3000;
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let observer: RedisClient;
  const started: { loops: SingletonLoop[]; clients: RedisClient[]; proxies: PartitionProxy[] } = {
    loops: [],
    clients: [],
    proxies: [],
  };

  beforeAll(async () => {
    cluster.start();
    await cluster.flush();
    observer = cluster.connect();
  }, 60_000);

  // Whatever a test started is stopped after it, passed or failed (a loop left running keeps
  // jest from exiting).
  afterEach(async () => {
    started.proxies.forEach((p) => p.heal());
    await Promise.all(started.loops.splice(0).map((l) => l.stop()));
    started.clients.splice(0).forEach((c) => c.disconnect());
    await Promise.all(started.proxies.splice(0).map((p) => p.stop()));
  });

  afterAll(() => {
    observer?.disconnect();
    cluster.stop();
  });

  /** One worker instance's connection: every node of the cluster behind a proxy of its own. */
  async function instance(): Promise<{ redis: RedisClient; proxyOf: Map<number, PartitionProxy> }> {
    const proxyOf = new Map<number, PartitionProxy>();
    for (const port of cluster.ports) {
      const proxy = new PartitionProxy({ host: '127.0.0.1', port });
      await proxy.start();
      started.proxies.push(proxy);
      proxyOf.set(port, proxy);
    }
    const natMap = Object.fromEntries(
      [...proxyOf].map(([port, p]) => [`127.0.0.1:${port}`, { host: '127.0.0.1', port: p.port }]),
    );
    const redis = connectRedis(
      {
        REDIS_URL: 'redis://unused',
        redisClusterNodes: [...proxyOf.values()].map((p) => ({ host: '127.0.0.1', port: p.port })),
      },
      { natMap },
    );
    started.clients.push(redis);
    return { redis, proxyOf };
  }

  /** The port of the primary serving `key`'s slot, as the cluster itself says. */
  async function primaryPortOf(key: string): Promise<number> {
    await observer.ping();
    const c = observer as Cluster;
    expect(await eventually(async () => c.slots[calculateSlot(key)]?.length > 0, 10_000)).toBe(
      true,
    );
    return Number(c.slots[calculateSlot(key)][0].split(':')[1]);
  }

  /** A key served by another primary than `port`. */
  async function keyAwayFrom(port: number): Promise<string> {
    for (let i = 0; ; i++) {
      const key = `{${uniqueId('log')}-${i}}:log`;
      if ((await primaryPortOf(key)) !== port) return key;
    }
  }

  it.each(['lead', 'tick'] as const)(
    'a %s cut off from the primary of its lease stops writing before its successor starts',
    async (mode) => {
      const resource = leaseKey(`test:${uniqueId(mode)}`);
      const leasePort = await primaryPortOf(resource);
      const log = await keyAwayFrom(leasePort);
      const instances = [await instance(), await instance()];
      const wrote = [0, 0];
      const stopped = [0, 0];
      // The work of a relay (lead) or of a sweep pass that outlasts its lease (tick): one write
      // every 20 ms, the signal checked before each, as the relay checks it before each send.
      const work = (i: number) => async (signal: AbortSignal) => {
        while (!signal.aborted) {
          await instances[i].redis.rpush(log, String(i));
          wrote[i] += 1;
          await wait(20);
        }
        stopped[i] += 1;
      };
      const loops = instances.map((inst, i) => {
        const lease = { resource, leaseMs: LEASE_MS, intervalMs: 50 };
        const loop = new SingletonLoop(
          createRedlock(inst.redis),
          mode === 'lead' ? { ...lease, lead: work(i) } : { ...lease, tick: work(i) },
        );
        started.loops.push(loop);
        return loop;
      });
      loops.forEach((l) => l.start());
      expect(await eventually(async () => wrote[0] + wrote[1] >= 10, 20_000, 10)).toBe(true);
      const leader = wrote[0] > 0 ? 0 : 1;
      const follower = 1 - leader;
      // The leader works through at least one renewal before the cut.
      expect(await eventually(async () => wrote[leader] >= 100, 30_000, 10)).toBe(true);
      expect(wrote[follower]).toBe(0);

      const cut = instances[leader].proxyOf.get(leasePort)!;
      cut.partition();
      const wroteAtCut = wrote[leader];
      expect(await eventually(async () => wrote[follower] >= 20, 30_000, 10)).toBe(true);
      // The cut heals: whatever the old leader had sent to its lease's primary arrives now.
      cut.heal();
      expect(await eventually(async () => stopped[leader] === 1, 20_000)).toBe(true);
      await Promise.all(loops.map((l) => l.stop()));

      const entries = await observer.lrange(log, 0, -1);
      const ofLeader = entries.filter((e) => e === String(leader)).length;
      // Every write counted was stored (the list is the one truth of who wrote when).
      expect(ofLeader).toBe(wrote[leader]);
      // The cut did not stop the leader's writes by itself (they go to another primary)...
      expect(wrote[leader]).toBeGreaterThan(wroteAtCut);
      // ...but none of them came after the successor's first.
      expect(entries.lastIndexOf(String(leader))).toBeLessThan(entries.indexOf(String(follower)));
    },
    90_000,
  );
});
