import { DomainError } from '@flashdrop/contracts';
import { waitForReplicas } from '@flashdrop/persistence';
import {
  DedicatedRedisCluster,
  dropDefinition,
  eventually,
  redisNow,
  slotPort,
} from '@flashdrop/testing';
import { Inventory } from './inventory';
import { dropKeys } from './keys';

/** What a rush through a failover left: holds answered, and which of them Redis still has. */
interface FailoverRun {
  readonly acknowledged: number;
  readonly lost: number;
  /** Grabs done but answered 503: their replicas did not confirm them in time. */
  readonly unconfirmed: number;
  /** Grabs that failed otherwise, while the slot had no primary (nothing promised). */
  readonly failed: number;
  /** Units the drop still has plus units held: must be the quantity, whatever was lost. */
  readonly accounted: number;
  /** Grabs answered per second before the lag (not asserted: the report's WAIT cost). */
  readonly ratePerSecond: number;
}

const QUANTITY = 100_000;
const WAVE = 100;
const LAG_FROM_WAVE = 10;
const KILL_AT_WAVE = 20;

/**
 * A Redis primary killed (kill -9) in the middle of a rush on a Redis Cluster of the test's
 * own (three primaries with a replica each, node timeout 1.5 s), its replica promoted: with
 * REDIS_WAIT_REPLICAS=1 no acknowledged hold is lost; without, the run reports how many were.
 * Either way nothing is oversold: what the new primary has is a prefix of what the old one did
 * (each script replicates as one unit), so stock and holds still add up to the quantity.
 */
describe('a Redis primary killed during a rush', () => {
  const cluster = new DedicatedRedisCluster(slotPort(7800));

  beforeAll(async () => {
    cluster.start();
    await cluster.flush();
  }, 60_000);

  afterAll(() => cluster.stop());

  async function rushThroughFailover(replicas: number): Promise<FailoverRun> {
    const redis = cluster.connect();
    let stopped: number | undefined;
    try {
      const inventory = new Inventory(redis, { replicas, timeoutMs: 300 });
      const def = dropDefinition(await redisNow(redis), {
        quantity: QUANTITY,
        reservationRequired: false,
      });
      await inventory.createDrop(def);
      const k = dropKeys(def.id);
      // The drop itself must survive the failover whatever the setting: only the holds are tested.
      expect(await waitForReplicas(redis, k.drop, 1, 5000)).toBe(1);
      const victim = await cluster.primaryServing(redis, k.drop);

      const replica = cluster.pidOf(cluster.replicaOf(victim));
      const acknowledged: string[] = [];
      let failed = 0;
      let unconfirmed = 0;
      let killedAt = 0;
      let rateBeforeLag = 0;
      const started = Date.now();
      for (let wave = 0; killedAt === 0 || Date.now() - killedAt < 6000; wave++) {
        // The replica falls behind (as over a slow link): stopped, it takes no more of the
        // replication stream, while the primary goes on answering.
        if (wave === LAG_FROM_WAVE) {
          rateBeforeLag = (acknowledged.length * 1000) / (Date.now() - started);
          process.kill(replica, 'SIGSTOP');
          stopped = replica;
        }
        const fans = Array.from({ length: WAVE }, (_, i) => `fan-${wave}-${i}`);
        const grabs = Promise.allSettled(
          fans.map((fanId) => inventory.grab({ dropId: def.id, fanId, quantity: 1 })),
        );
        // The kill lands while a wave's scripts are on their way to the primary; the replica,
        // running again, is promoted after the node timeout with what it had.
        if (wave === KILL_AT_WAVE) {
          cluster.kill9(victim);
          process.kill(replica, 'SIGCONT');
          stopped = undefined;
          killedAt = Date.now();
        }
        for (const outcome of await grabs) {
          if (outcome.status === 'fulfilled' && outcome.value.ok) {
            acknowledged.push(outcome.value.order.id);
          } else if (
            outcome.status === 'rejected' &&
            outcome.reason instanceof DomainError &&
            outcome.reason.code === 'SERVICE_UNAVAILABLE'
          ) {
            unconfirmed++;
          } else {
            failed++;
          }
        }
      }
      // The slot is served again (by the promoted replica): every answer below is its.
      expect(await eventually(async () => (await redis.get(k.stock)) !== null, 20_000, 200)).toBe(
        true,
      );
      const lost: string[] = [];
      for (const id of acknowledged) {
        if ((await inventory.getOrder(id)) === undefined) lost.push(id);
      }
      const [stock, held] = await Promise.all([redis.get(k.stock), redis.zcard(k.holds)]);
      return {
        acknowledged: acknowledged.length,
        lost: lost.length,
        unconfirmed,
        failed,
        accounted: Number(stock) + held,
        ratePerSecond: Math.round(rateBeforeLag),
      };
    } finally {
      redis.disconnect();
      if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
      // The killed node comes back as a replica of its successor, for the next run.
      expect(cluster.run('start')).toBe(0);
    }
  }

  it('with WAIT on a replica (REDIS_WAIT_REPLICAS=1): no acknowledged hold lost, nothing oversold', async () => {
    const run = await rushThroughFailover(1);
    process.stdout.write(`failover with WAIT 1: ${JSON.stringify(run)}\n`);
    // The waves before the lag were answered; those while the replica lagged were done but
    // answered 503 (not confirmed), so nothing they did was promised.
    expect(run.acknowledged).toBeGreaterThanOrEqual(LAG_FROM_WAVE * WAVE * 0.9);
    expect(run.unconfirmed).toBeGreaterThanOrEqual((KILL_AT_WAVE - LAG_FROM_WAVE) * WAVE * 0.9);
    expect(run.lost).toBe(0);
    expect(run.accounted).toBe(QUANTITY);
  }, 120_000);

  it('with WAIT off: every hold is answered at once, the lost ones are counted; nothing oversold', async () => {
    const run = await rushThroughFailover(0);
    process.stdout.write(`failover without WAIT: ${JSON.stringify(run)}\n`);
    // Answered from the primary alone. Whether the lagging waves survive is up to what the
    // primary had written to the replica's socket before it died (on loopback the kernel still
    // delivers that after a kill -9: 0 on a quiet box, 169 of 13,400 once on a loaded one; over
    // a network, the replication lag): reported, not asserted. What never depends on it:
    // nothing oversold.
    expect(run.acknowledged).toBeGreaterThanOrEqual(KILL_AT_WAVE * WAVE * 0.9);
    expect(run.unconfirmed).toBe(0);
    expect(run.accounted).toBe(QUANTITY);
  }, 120_000);
});
