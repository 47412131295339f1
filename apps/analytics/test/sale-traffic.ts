import { Inventory } from '@flashdrop/inventory';
import { dropDefinition, moveHoldDeadline, redisNow, retireDrop } from '@flashdrop/testing';

/** Drops made by createOpenDrop in this test file, with the inventory that made them. */
const openDrops: [Inventory, string][] = [];

/**
 * A drop on sale now, with its reservation window open, created through the real scripts. Its
 * orders are paid with the scripts alone (no wallet): call `retireOpenDrops` once the test file
 * is done, so the audit after the run does not meet paid orders without a debit.
 */
export async function createOpenDrop(
  inventory: Inventory,
  overrides: { brandId?: string; quantity?: number; title?: string } = {},
): Promise<string> {
  const def = dropDefinition(await redisNow(inventory.redis), overrides);
  await inventory.createDrop(def);
  openDrops.push([inventory, def.id]);
  return def.id;
}

/** Takes this file's open drops out of the stack's view (libs/testing retireDrop). */
export async function retireOpenDrops(): Promise<void> {
  for (const [inventory, dropId] of openDrops.splice(0)) {
    await retireDrop(inventory.redis, dropId);
  }
}

/**
 * A burst of mixed traffic on one drop through the sale's real Lua scripts: reservations (some
 * referred), shares on three channels, grabs by reserved and unreserved fans (more fans than
 * units), waitlist joins by those left without, then payments, expiries and cancels of the
 * holds (whose units pass down the line). Each phase's requests are all in flight at once.
 * The reservations without a referrer are announced at the end (as the worker's
 * ReservationCounter does every 250 ms), unless `announce` is false: then a worker must.
 */
export async function mixedBurst(
  inventory: Inventory,
  dropId: string,
  fans: number,
  tag = '',
  announce = true,
): Promise<void> {
  const fanIds = Array.from({ length: fans }, (_, i) => `${dropId}${tag}-f${i}`);
  await Promise.all(
    fanIds.map((fan, i) =>
      i % 5 === 4 ? undefined : inventory.reserve(dropId, fan, i % 3 === 0 ? fanIds[0] : undefined),
    ),
  );
  const channels = ['weibo', 'wechat', 'qq'];
  await Promise.all(fanIds.map((fan, i) => inventory.share(dropId, fan, channels[i % 3])));
  const grabs = await Promise.all(
    fanIds.map((fanId) => inventory.grab({ dropId, fanId, quantity: 1 })),
  );
  const orders = grabs.flatMap((g) => (g.ok ? [g.order.id] : []));
  // Fans left without a unit queue (where the drop sold out), so releases below pass down.
  await Promise.all(
    fanIds.filter((_, i) => !grabs[i].ok).map((fan) => inventory.joinWaitlist(dropId, fan)),
  );
  const now = await redisNow(inventory.redis);
  await Promise.all(
    orders.map(async (orderId, i) => {
      if (i % 3 === 0) await inventory.completePayment(orderId);
      else if (i % 3 === 1) await moveHoldDeadline(inventory.redis, orderId, now - 1);
      else if (i % 6 === 2) await inventory.cancelOrder(orderId);
    }),
  );
  while ((await inventory.expireDue(dropId, 500)).scanned === 500);
  // Refusals are reported in aggregate every 250 ms; report them now so the truth is complete.
  await inventory.refusals.flush();
  if (announce) await inventory.countReservations(dropId);
}
