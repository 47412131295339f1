import {
  DropDefinition,
  GrabRequest,
  Inventory,
  InventoryOrder,
  INVENTORY_SOURCES,
  newDropId,
  ScriptName,
} from '@flashdrop/inventory';
import { isCluster, RedisClient } from '@flashdrop/persistence';
import { createHash } from 'node:crypto';
// The sale's raw keys are libs/inventory's own; tests read and bend them through here only.
import { DROPS_ACTIVE_KEY, DROPS_INDEX_KEY, dropKeys } from '../../inventory/src/keys';

export { DROPS_ACTIVE_KEY, DROPS_INDEX_KEY, dropKeys };

/** Redis TIME in ms: tests place drop windows on the sale clock, not the test's own. */
export async function redisNow(redis: RedisClient): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * A drop definition on sale now with its reservation window open (the scripts do not check the
 * API's ordering of windows, which lets one test reserve and grab without waiting).
 */
export function dropDefinition(
  now: number,
  overrides: Partial<DropDefinition> = {},
): DropDefinition {
  return {
    id: newDropId(),
    brandId: 'brand-test',
    title: 'Test phone',
    sku: 'PHONE-1',
    priceMinor: 199_900,
    currency: 'CNY',
    quantity: 100,
    perUserLimit: 1,
    reservationRequired: true,
    reservationOpensAt: now - 60_000,
    reservationClosesAt: now + 3_600_000,
    saleStartsAt: now - 1_000,
    holdSeconds: 600,
    allocation: 'first_come',
    paused: false,
    cancelled: false,
    createdAt: now - 120_000,
    version: 1,
    ...overrides,
  };
}

/**
 * A first-come drop (no reservation needed) on sale now by the sale clock, created through
 * `inventory`'s own script: the starting point of most script-level tests.
 */
export async function createOpenDrop(
  inventory: Inventory,
  overrides: Partial<DropDefinition> = {},
): Promise<DropDefinition> {
  const def = dropDefinition(await redisNow(inventory.redis), {
    reservationRequired: false,
    ...overrides,
  });
  await inventory.createDrop(def);
  return def;
}

/**
 * A grab the test needs to succeed (one unit unless said): the order it holds, or a throw naming
 * the refusal, so a set-up step that fails says why instead of failing a later assertion.
 */
export async function heldOrder(
  inventory: Inventory,
  request: Pick<GrabRequest, 'dropId' | 'fanId'> & Partial<GrabRequest>,
): Promise<InventoryOrder> {
  const r = await inventory.grab({ quantity: 1, ...request });
  if (!r.ok) throw new Error(`grab refused: ${r.code}`);
  return r.order;
}

/**
 * Test-only: moves a hold's deadline (the order's expiresAt and its place in the holds zset),
 * so expiry is tested without waiting the 10 s minimum of holdSeconds.
 */
export async function moveHoldDeadline(redis: RedisClient, orderId: string, expiresAt: number) {
  const dropId = orderId.split('-')[0];
  const k = dropKeys(dropId);
  await redis
    .multi()
    .hset(k.order(orderId), 'expiresAt', expiresAt)
    .zadd(k.holds, 'XX', expiresAt, orderId)
    .exec();
}

/**
 * Test-only (group buy): moves a group's deadline to `expiresAt` (epoch ms), in its hash and in
 * the drop's unfinished groups, so a test need not wait groupSeconds (60 s at least) for the
 * sweeper to fail it. The members' holds keep their own deadlines.
 */
export async function moveGroupDeadline(
  redis: RedisClient,
  dropId: string,
  groupId: string,
  expiresAt: number,
) {
  const k = dropKeys(dropId);
  await redis
    .multi()
    .hset(k.group(groupId), 'expiresAt', expiresAt)
    .zadd(k.groups, 'XX', expiresAt, groupId)
    .exec();
}

/**
 * Test-only (group buy): moves when an unfinished group is next due for the group sweeper (its
 * score in the drop's unfinished groups) to `at`, leaving the group's hash alone: a completing
 * group is due its completion grace (5 s) after its last payment, so a test of the sweeper
 * finishing a completion a crashed payer left need not wait for it.
 */
export async function moveGroupDue(
  redis: RedisClient,
  dropId: string,
  groupId: string,
  at: number,
) {
  await redis.zadd(dropKeys(dropId).groups, 'XX', at, groupId);
}

/**
 * Test-only: puts an order into its drop's holds zset at `at` whatever its status (ZADD without
 * XX, unlike moveHoldDeadline): where the sweeper will meet it. For the guards of orders that
 * left the zset (paid, cancelled, expired), which expire_due must pass over.
 */
export async function putInHolds(redis: RedisClient, orderId: string, at: number): Promise<void> {
  await redis.zadd(dropKeys(orderId.split('-')[0]).holds, at, orderId);
}

/** Test-only: rewrites times of a mirrored drop (epoch ms; '' removes an optional one). */
export async function setDropTimes(
  redis: RedisClient,
  dropId: string,
  times: Partial<
    Record<
      'reservationOpensAt' | 'reservationClosesAt' | 'saleStartsAt' | 'saleEndsAt',
      number | ''
    >
  >,
) {
  const kv = Object.entries(times).flat();
  if (kv.length > 0) await redis.hset(dropKeys(dropId).drop, ...kv);
}

/**
 * Test-only: takes a drop out of `drops:index` once its test is done with it, so the stack's
 * worker and the audit after the run no longer look at it. For drops whose orders a test pays
 * with the scripts alone (no wallet): their paid orders have no debit, which the audit would
 * rightly call a breach. Its keys stay where they are.
 */
export async function retireDrop(redis: RedisClient, dropId: string): Promise<void> {
  // Two commands, not one pipeline: on a Redis Cluster the two sets are on different slots.
  await Promise.all([redis.srem(DROPS_INDEX_KEY, dropId), redis.srem(DROPS_ACTIVE_KEY, dropId)]);
}

/**
 * Test-only: Redis loses the drop, as in a failover or a restore from an old copy: every key of
 * its sale is deleted (not analytics' `{d:ID}:a:*`) and it leaves the drop indexes. The next
 * read of the drop through the API rebuilds it from PostgreSQL.
 */
export async function loseDrop(redis: RedisClient, dropId: string): Promise<void> {
  const sale = await saleKeysOf(redis, dropId);
  if (sale.length > 0) await redis.del(...sale);
  await retireDrop(redis, dropId);
}

/** Every key of a drop's sale (`{d:ID}:*`, not analytics' `{d:ID}:a:*`). */
async function saleKeysOf(redis: RedisClient, dropId: string): Promise<string[]> {
  const pattern = `${dropKeys(dropId).drop.replace(':drop', '')}:*`;
  // On a Redis Cluster, KEYS goes to one node of the client's choosing: ask every primary (the
  // drop's keys share its slot, so one of them has them all, and one DEL removes them).
  const keys = isCluster(redis)
    ? (await Promise.all(redis.nodes('master').map((node) => node.keys(pattern)))).flat()
    : await redis.keys(pattern);
  return keys.filter((k) => !k.includes('}:a:'));
}

/**
 * Test-only: what a replica of the drop's primary has now (every key of its sale, DUMPed).
 * `failOver` later puts the drop back to exactly that, as a failover to a replica that had
 * received nothing since does (REDIS_WAIT_REPLICAS=0): whatever the sale wrote in between is
 * gone, holds the fans were answered for included; what the replica had is as it was.
 */
export async function replicaOfDrop(
  redis: RedisClient,
  dropId: string,
): Promise<{ failOver(): Promise<void> }> {
  const copy: { key: string; ttl: number; dump: Buffer }[] = [];
  for (const key of await saleKeysOf(redis, dropId)) {
    const dump = await redis.dumpBuffer(key);
    if (dump) copy.push({ key, ttl: Math.max(0, await redis.pttl(key)), dump });
  }
  return {
    async failOver() {
      const now = await saleKeysOf(redis, dropId);
      if (now.length > 0) await redis.del(...now);
      for (const { key, ttl, dump } of copy) await redis.restore(key, ttl, dump, 'REPLACE');
    },
  };
}

/**
 * Test-only: the `key#field` and value grab.lua stores under a fan's Idempotency-Key for its
 * first answer (the field is _lib.lua's idem_field, scoped to the fan; the value the request,
 * `grab|<quantity>|`, then the order id or `E:<code>`), as dropSnapshot names them.
 */
export function grabIdempotencyEntry(
  dropId: string,
  fanId: string,
  key: string,
  quantity: number,
  answer: string,
): [string, string] {
  return [
    `${dropKeys(dropId).idempotency}#${fanId.length}:${fanId}:${key}`,
    `grab|${quantity}|${answer}`,
  ];
}

/**
 * How one inventory script shows on the wire, for a proxy to spot it (libs/testing
 * CuttingProxy): its SHA, as EVALSHA sends it, and its first line, as EVAL sends it (ioredis
 * sends the whole script the first time on each connection).
 */
export function scriptOnTheWire(name: ScriptName): string[] {
  const source = INVENTORY_SOURCES[name];
  return [createHash('sha1').update(source.lua).digest('hex'), source.file.split('\n')[0]];
}
