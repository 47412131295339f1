import Redis from 'ioredis';
import { DropDefinition, Inventory, newDropId } from '@flashdrop/inventory';
import { peers } from '../scenarios/peers';
import { phoneRush } from '../scenarios/phone-rush';
import { RunContext } from './context';
import { redisPid } from './cpu';
import { drive, DriveResult } from './load';
import { PeerProcess } from './processes';
import { rush, RushResult } from './run-phone';
import { fanId } from './stack';

/**
 * The floor: the phone rush (same fans, same units) against the floor peer, whose drop and
 * reservations are written straight into Redis with the same Inventory the stack uses.
 */
/**
 * The phone's drop written straight into the floor's Redis (the floor has no drop routes): its
 * definition with `quantity` units and the given times, as the stack would mirror it.
 */
export async function createFloorDrop(
  inventory: Inventory,
  run: string,
  quantity: number,
  times: Pick<DropDefinition, 'saleStartsAt' | 'reservationOpensAt' | 'reservationClosesAt'> &
    Partial<Pick<DropDefinition, 'reservationRequired'>>,
): Promise<string> {
  const id = newDropId();
  const d = phoneRush.drop;
  await inventory.createDrop({
    id,
    brandId: `brand-${run}`,
    title: d.title,
    sku: `${d.skuPrefix}-${run}`,
    priceMinor: d.priceMinor,
    currency: d.currency,
    quantity,
    perUserLimit: d.perUserLimit,
    reservationRequired: d.reservationRequired,
    holdSeconds: d.holdSeconds,
    allocation: 'first_come',
    paused: false,
    cancelled: false,
    createdAt: await inventory.now(),
    version: 1,
    ...times,
  });
  return id;
}

export async function runFloor(
  ctx: RunContext,
  floor: PeerProcess,
  floorRedis: Redis,
  run: string,
  tokens: readonly string[],
  quantity: number,
  maxSeconds: number,
  around: { before?: () => void; after?: () => Promise<void> } = {},
): Promise<RushResult> {
  const inventory = new Inventory(floorRedis);
  const now = await inventory.now();
  const id = await createFloorDrop(inventory, `${ctx.run}-floor`, quantity, {
    reservationOpensAt: now,
    reservationClosesAt: now + 60_000,
    saleStartsAt: now + 60_000,
  });
  // Every fan reserves (batches of concurrent calls: auto-pipelining sends each as one write).
  for (let from = 0; from < tokens.length; from += 10_000) {
    const batch: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(tokens.length, from + 10_000); i++) {
      batch.push(inventory.reserve(id, fanId(run, i)));
    }
    await Promise.all(batch);
  }
  // Open the sale now: the rush starts at the start instant, as on the stack.
  const def = await inventory.viewDrop(id);
  if (!def) throw new Error('floor drop vanished');
  const startsAt = (await inventory.now()) + 200;
  await floorRedis.hset(
    `{d:${id}}:drop`,
    'reservationClosesAt',
    startsAt,
    'saleStartsAt',
    startsAt,
  );
  await new Promise((r) => setTimeout(r, 250));
  ctx.log(`floor: ${tokens.length} fans reserved in Redis; rushing`);
  const pids = { server: floor.pid, redis: await redisPid(floorRedis) };
  around.before?.();
  const result = await rush(floor.origin, id, quantity, tokens, maxSeconds, pids);
  await around.after?.();
  return result;
}

export interface NaiveResult extends RushResult {
  /** Units the database says are left after the run. */
  readonly remaining: number;
}

/**
 * The naive design: the same rush, scaled down by the caller (its ~2.7k/s would need ~90 s for
 * 240,000 fans) and bounded in time; throughput and latency compare at the same concurrency.
 */
export async function runNaive(
  naive: PeerProcess,
  tokens: readonly string[],
  quantity: number,
  maxSeconds: number,
): Promise<NaiveResult> {
  const id = `naive-${Date.now().toString(36)}`;
  const put = await fetch(`${naive.origin}/naive/drops/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quantity }),
  });
  if (put.status !== 204) throw new Error(`naive set-up: ${put.status}`);
  const result = await rush(naive.origin, id, quantity, tokens, maxSeconds, {
    server: naive.pid,
  });
  const left = (await (await fetch(`${naive.origin}/naive/drops/${id}`)).json()) as {
    remaining: number;
  };
  return { ...result, remaining: left.remaining };
}

/** The load generator's ceiling: hello-world, bounded in time. */
export async function runHello(
  hello: PeerProcess,
  seconds: number = peers.hello.seconds,
): Promise<DriveResult> {
  return drive({
    origin: hello.origin,
    // More than any generator here answers in `seconds` (~40,000/s), not so many that writing
    // and building them costs more than the run.
    count: Math.ceil(seconds * 100_000),
    connections: peers.hello.arrival.maxInFlight,
    maxSeconds: seconds,
    call: () => ({ method: 'GET', path: '/' }),
  });
}
