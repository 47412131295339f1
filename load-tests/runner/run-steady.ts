import Redis from 'ioredis';
import { Inventory } from '@flashdrop/inventory';
import { phoneRush } from '../scenarios/phone-rush';
import { RunContext } from './context';
import { PeerProcess } from './processes';
import { createFloorDrop } from './run-peers';
import { rush, RushPids, RushResult } from './run-phone';
import { createDrop, sleep, tokenOf } from './stack';

/** How many fans a steady run sends at `rate` and how many units they find (the phone's mix). */
export function steadySize(rate: number): { fans: number; quantity: number } {
  const fans = Math.round(rate * phoneRush.steady.seconds);
  const quantity = Math.max(1, Math.round((fans * phoneRush.drop.quantity) / phoneRush.fans));
  return { fans, quantity };
}

/** Runs a measurement inside something (e.g. runner/stages.ts withStages); default: as it is. */
export type Around = <T>(run: () => Promise<T>) => Promise<T>;
const asIs: Around = (run) => run();

/**
 * Grabs arriving at a steady `rate` (phoneRush.steady) on a fresh open drop that needs no
 * reservation, so the tokens of the phone's fans serve again. The stack: through the API.
 */
export async function runSteadyStack(
  ctx: RunContext,
  tokens: readonly string[],
  rate: number,
  pids: RushPids,
  around: Around = asIs,
): Promise<RushResult> {
  const { fans, quantity } = steadySize(rate);
  const brand = tokenOf(ctx.stack, `brand-${ctx.run}`, 'brand');
  const startsAt = Date.now() + 1_000;
  const drop = await createDrop(
    ctx.stack,
    brand,
    { ...phoneRush.drop, reservationRequired: false },
    quantity,
    { saleStartsAt: startsAt },
    `${ctx.run}-steady`,
  );
  await sleep(startsAt + 20 - Date.now());
  return around(() =>
    steadyRush(ctx.stack.origin, drop.id, quantity, tokens.slice(0, fans), rate, pids),
  );
}

/** The same steady run against the floor peer (its drop written straight into its Redis). */
export async function runSteadyFloor(
  ctx: RunContext,
  floor: PeerProcess,
  floorRedis: Redis,
  tokens: readonly string[],
  rate: number,
  redisPid?: number,
  around: Around = asIs,
): Promise<RushResult> {
  const { fans, quantity } = steadySize(rate);
  const inventory = new Inventory(floorRedis);
  const id = await createFloorDrop(inventory, `${ctx.run}-floor-steady`, quantity, {
    reservationRequired: false,
    saleStartsAt: await inventory.now(),
  });
  return around(() =>
    steadyRush(floor.origin, id, quantity, tokens.slice(0, fans), rate, {
      server: floor.pid,
      redis: redisPid,
    }),
  );
}

function steadyRush(
  origin: string,
  dropId: string,
  quantity: number,
  tokens: readonly string[],
  rate: number,
  pids: RushPids,
): Promise<RushResult> {
  const bound = phoneRush.steady.seconds * 3;
  return rush(origin, dropId, quantity, tokens, bound, pids, rate, phoneRush.steady.maxInFlight);
}
