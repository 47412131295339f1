/**
 * Every Redis key of the sale (libs/inventory/README.md "Keys"). One drop's keys share the hash
 * tag `{d:<dropId>}`, so one drop lives in one Redis Cluster slot and each script touches one
 * slot only.
 */
import { DROPS_INDEX_KEY, outboxStreamKey } from '@flashdrop/events';

/** The index of drops and the outbox stream's name are the events' contract (libs/events). */
export { DROPS_INDEX_KEY };

export function dropKeys(dropId: string) {
  const tag = `{d:${dropId}}`;
  return {
    drop: `${tag}:drop`,
    stock: `${tag}:stock`,
    reservations: `${tag}:res`,
    fans: `${tag}:fans`,
    holds: `${tag}:holds`,
    events: outboxStreamKey(dropId),
    stats: `${tag}:stats`,
    idempotency: `${tag}:idem`,
    fanOrders: `${tag}:fo`,
    orderPrefix: `${tag}:o:`,
    order: (orderId: string) => `${tag}:o:${orderId}`,
  };
}

export type DropKeys = ReturnType<typeof dropKeys>;

/**
 * Drops whose payments tests make with the scripts alone, without a wallet (the inventory's own
 * script tests): the audit checks every invariant on them except "every paid order was
 * debited", which needs the wallet. Never written outside tests.
 */
export const WALLETLESS_DROPS_KEY = 'audit:walletless-drops';
