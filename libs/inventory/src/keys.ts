/**
 * Every Redis key of the sale, and the only place that spells them (libs/inventory/README.md
 * "Keys"). Private to this library: other code reaches the sale's state through `Inventory`
 * and the outbox classes; tests reach the raw keys through libs/testing.
 *
 * One drop's keys share the hash tag `{d:<dropId>}`, so one drop lives in one Redis Cluster slot
 * and each script touches one slot only.
 */

/** The hash tag of one drop's keys; other owners' per-drop keys use it to share the slot. */
export function dropSlotTag(dropId: string): string {
  return `{d:${dropId}}`;
}

export function dropKeys(dropId: string) {
  const tag = dropSlotTag(dropId);
  return {
    drop: `${tag}:drop`,
    stock: `${tag}:stock`,
    reservations: `${tag}:res`,
    fans: `${tag}:fans`,
    holds: `${tag}:holds`,
    /** The drop's outbox stream: one entry per state change, written by the scripts. */
    events: `${tag}:events`,
    stats: `${tag}:stats`,
    idempotency: `${tag}:idem`,
    fanOrders: `${tag}:fo`,
    orderPrefix: `${tag}:o:`,
    order: (orderId: string) => `${tag}:o:${orderId}`,
  };
}

export type DropKeys = ReturnType<typeof dropKeys>;

/** The set of every drop id: the relay, the sweeper, the scheduler and the audit walk it. */
export const DROPS_INDEX_KEY = 'drops:index';

/** `{d:<dropId>}:events` -> dropId (the outbox relay reads many streams in one call). */
export function dropIdOfStream(streamKey: string): string {
  const match = /^\{d:(.+)\}:events$/.exec(streamKey);
  if (!match) throw new Error(`not an outbox stream key: ${streamKey}`);
  return match[1];
}

/** The order a fan's payment Idempotency-Key was first used for (`EX` 24 h). */
export function paymentKeyBinding(fanId: string, idempotencyKey: string): string {
  return `payidem:${fanId}:${idempotencyKey}`;
}
