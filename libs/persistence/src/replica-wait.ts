import calculateSlot from 'cluster-key-slot';
import type Redis from 'ioredis';
import { isCluster, RedisClient } from './redis';
import { withTimeout } from './timing';

/**
 * Waits until `replicas` replicas of the primary that serves `key` have every write this
 * connection made there so far (Redis `WAIT`), or `timeoutMs` passed; answers how many do.
 * Rejects when the primary does not answer at all (it died after the write).
 *
 * WAIT counts the writes of the connection it is sent on, so it goes on the very connection
 * that carried the write, after the write was answered: on one Redis the client itself, on a
 * Redis Cluster the client's connection to the key's primary.
 *
 * A WAIT holds its connection until it returns (Redis answers the next command only then), so
 * concurrent callers share one: a caller that finds a WAIT in flight on its connection waits
 * for the next one, sent when that returns (its write may be newer than what the one in flight
 * covers), and everyone who came meanwhile shares that next one. In a rush that is one WAIT
 * per replica round trip per connection, a group commit; when replicas lag, the connection is
 * held at most `timeoutMs` at a time, not once per caller.
 */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  const node = isCluster(redis) ? primaryOf(redis, key) : redis;
  let waits = pending.get(node);
  if (!waits) {
    waits = new SharedWait(node);
    pending.set(node, waits);
  }
  return waits.join(replicas, timeoutMs);
}

const pending = new WeakMap<Redis, SharedWait>();

/** One connection's WAITs: at most one in flight, and at most one queued behind it. */
class SharedWait {
  private inFlight?: Promise<number>;
  private next?: Promise<number>;

  constructor(private readonly node: Redis) {}

  join(replicas: number, timeoutMs: number): Promise<number> {
    if (!this.inFlight) return (this.inFlight = this.send(replicas, timeoutMs));
    this.next ??= this.inFlight
      .catch(() => 0)
      .then(() => {
        this.inFlight = this.next;
        this.next = undefined;
        return this.send(replicas, timeoutMs);
      });
    return this.next;
  }

  private async send(replicas: number, timeoutMs: number): Promise<number> {
    try {
      const wait = this.node.call('WAIT', replicas, timeoutMs);
      return Number(await withTimeout(wait, timeoutMs + 1000, 'redis WAIT'));
    } finally {
      if (this.next === undefined) this.inFlight = undefined;
    }
  }
}

/** The client's connection to the primary that serves `key`, as its slot map says now. */
function primaryOf(cluster: Extract<RedisClient, { slots: unknown }>, key: string): Redis {
  const slot = calculateSlot(key);
  const [primary] = cluster.slots[slot] ?? [];
  const node = cluster
    .nodes('master')
    .find((n) => `${n.options.host}:${n.options.port}` === primary);
  if (!node) throw new Error(`redis cluster: no primary known for slot ${slot}`);
  return node;
}
