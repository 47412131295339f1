import { Inventory, StoredSale } from '@flashdrop/inventory';
import type { OrderRecords } from '@flashdrop/sales';
import { Breach } from './breach';

/**
 * Invariant 6 of one drop (whatever was acknowledged survives a crash), as far as a stored copy
 * shows it: every order PostgreSQL's `sales.orders` holds for the drop is one Redis still has.
 * Order persistence copies an order only after Redis answered the script that made it, so a row
 * Redis lacks is a hold Redis acknowledged and then lost: a failover to a replica that had not
 * received it (REDIS_WAIT_REPLICAS=0, docs/scale.md), or Redis restarted from an AOF it had not
 * synced. Each is named, with its fan: its unit is back in the drop's stock, where another fan
 * can take it, and the fan holding the 201 is the one an operator must settle with, unless
 * Inventory.putBackStoredOrders put it back (it does while the stock has the units).
 *
 * What it cannot see: a hold acknowledged and lost before order persistence copied it (its last
 * pass, 200 ms): no stored record names it. A drop Redis lost whole is rebuilt from these same
 * rows (restore_orders), so once rebuilt it has each of them again; one not rebuilt yet has no
 * stored sale and is not audited here.
 *
 * Safe on a running stack: Redis is read before PostgreSQL, so an order made between the two
 * reads is in PostgreSQL and not in the sale as read; it is asked for again before it is named.
 */
export async function auditDurability(
  inventory: Inventory,
  orders: Pick<OrderRecords, 'holdersOfDrop'>,
  sale: StoredSale,
): Promise<Breach[]> {
  const dropId = sale.definition.id;
  const inRedis = new Set(sale.orders.map((o) => o.id));
  const breaches: Breach[] = [];
  for (const o of await orders.holdersOfDrop(dropId)) {
    if (inRedis.has(o.id) || (await inventory.getOrder(o.id)) !== undefined) continue;
    breaches.push({
      invariant: 6,
      subject: `order ${o.id}`,
      message:
        `fan ${o.fanId}'s order of ${o.quantity} unit(s) of drop ${dropId} (${o.status} in ` +
        `sales.orders) is not in Redis: acknowledged, then lost by Redis`,
    });
  }
  return breaches;
}
