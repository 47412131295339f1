import { holdsUnits, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { Breach } from './breach';

/**
 * Invariant 9, group buy (docs/api.md "Campaigns"), across the orders and groups in Redis and
 * the ledger:
 * - every drop's escrow (the sum of its escrow shards) equals the sum of its `grouped` orders
 *   not yet released and of its members still `paying` whose escrow debit committed (a payer
 *   died before complete_payment);
 * - a group release moved one order's payment out of the escrow it went to, once, and never
 *   for an order also refunded; a released order is paid (or refunded since, by its brand), or
 *   still `grouped` in a `completing` group (the completer died between the wallet's release
 *   and finish_group: the group sweeper, or a member's next payment call, finishes it);
 * - a complete group's live members are all paid, each released once, none refunded by the
 *   group; a failed group's members are none held, paying or grouped, and each member that paid
 *   is refunded (its refund is checked once by the refund invariant) and never released;
 * - a group never holds more live members than its size.
 */
export async function auditGroups(
  inventory: Inventory,
  ledger: LedgerFacts,
  orders: ReadonlyMap<string, InventoryOrder>,
  dropIds: readonly string[],
): Promise<Breach[]> {
  const breaches: Breach[] = [];
  const breach = (subject: string, message: string) =>
    breaches.push({ invariant: 9, subject, message });
  const escrow = await ledger.escrowByDrop();
  const releases = await ledger.releasesByOrder();

  // A member whose payer died between the escrow debit and complete_payment is still `paying`
  // with its money in escrow, until the payment recovery completes it: the same window
  // auditMoney allows the debit (and bounds: stuck in paying).
  const debited = new Set((await ledger.debitsByOrder()).map((d) => d.orderId));
  const grouped = new Map<string, number>();
  const groupsOfDrop = new Map<string, Set<string>>();
  for (const o of orders.values()) {
    // A grouped member already released (its completer died before finish_group) holds no
    // escrow any more: the release below must then be of a completing group's member.
    const inEscrow =
      (o.status === 'grouped' && !releases.has(o.id)) ||
      (o.status === 'paying' && o.groupId !== undefined && debited.has(o.id));
    if (inEscrow) grouped.set(o.dropId, (grouped.get(o.dropId) ?? 0) + o.amountMinor);
    if (o.groupId === undefined) continue;
    const set = groupsOfDrop.get(o.dropId) ?? new Set<string>();
    set.add(o.groupId);
    groupsOfDrop.set(o.dropId, set);
  }
  for (const dropId of dropIds) {
    const held = escrow.get(dropId) ?? 0;
    const owed = grouped.get(dropId) ?? 0;
    if (held !== owed) {
      breach(`drop ${dropId}`, `escrow holds ${held}, its grouped orders ${owed}`);
    }
  }
  const inScope = new Set(dropIds);
  for (const [orderId, r] of releases) {
    const order = orders.get(orderId);
    if (!order || !inScope.has(order.dropId)) continue;
    const subject = `order ${orderId}`;
    if (r.count !== 1) breach(subject, `released from escrow ${r.count} times`);
    if (!r.fromPaymentEscrow) breach(subject, `the release does not empty its payment's escrow`);
    if (r.refunded && order.status !== 'refunded' && order.status !== 'refunding') {
      breach(subject, 'released from escrow and refunded while not refunded by its brand');
    }
    if (order.status === 'grouped' && order.groupId !== undefined) {
      const group = await inventory.group(order.dropId, order.groupId);
      if (group?.status !== 'completing') {
        breach(subject, `released from escrow but grouped, its group ${group?.status ?? 'gone'}`);
      }
    } else if (!['paid', 'refunding', 'refunded'].includes(order.status)) {
      breach(subject, `released from escrow but ${order.status}`);
    }
  }
  for (const [dropId, groupIds] of groupsOfDrop) {
    if (!inScope.has(dropId)) continue;
    for (const groupId of groupIds) {
      const group = await inventory.group(dropId, groupId);
      const subject = `group ${groupId} of drop ${dropId}`;
      if (!group) {
        breach(subject, 'its orders name it but Redis has no such group');
        continue;
      }
      const members = (await inventory.groupMembers(dropId, groupId)).map((id) => orders.get(id));
      const live = members.filter((o) => o && holdsUnits(o.status));
      if (live.length > group.size) breach(subject, `${live.length} live members of ${group.size}`);
      for (const o of members) {
        if (!o) continue;
        if (group.status === 'complete') {
          if (o.status === 'held' || o.status === 'paying' || o.status === 'grouped') {
            breach(subject, `complete, but member ${o.id} is ${o.status}`);
          }
          if (['paid', 'refunding'].includes(o.status) && releases.get(o.id)?.count !== 1) {
            breach(subject, `complete, but member ${o.id} was not released from escrow once`);
          }
        }
        if (group.status === 'failed') {
          if (holdsUnits(o.status)) {
            breach(subject, `failed, but member ${o.id} is ${o.status}`);
          }
          if (releases.has(o.id)) breach(subject, `failed, but member ${o.id} was released`);
        }
      }
    }
  }
  return breaches;
}
