import { auditDrop, INVARIANTS } from '@flashdrop/audit';
import { allocationKindOf, InventoryGroup, StoredSale } from '@flashdrop/inventory';
import { SaleModel } from './model';
import { World } from './world';

/** Invariants broken after a step: the seed fails here and fast-check shrinks it. */
export class InvariantBroken extends Error {}

/**
 * After every step: the worker's order persistence catches up (it chains the allocation log),
 * then the audit's own checks of the drop (libs/audit `auditDrop`: invariants 1-5, 8 and 9), then
 * what only the model knows (invariant 6: what a client was answered survives; the money each
 * fan should hold, refunds and referral rewards included; no order refunded without a refund
 * asked). Answers the sale as read, for the next step's reference checks.
 */
export async function checkStep(world: World, model: SaleModel): Promise<StoredSale> {
  await world.persister.persistOnce();
  const { breaches, sale } = await auditDrop(
    world.inventory,
    world.facts,
    world.sales,
    model.drop.id,
  );
  const problems = breaches.map(
    (b) => `invariant ${b.invariant} (${INVARIANTS[b.invariant]}): ${b.subject}: ${b.message}`,
  );
  if (!sale) throw new InvariantBroken(`invariant 6: drop ${model.drop.id} is gone from Redis`);
  const byId = new Map(sale.orders.map((o) => [o.id, o]));
  for (const id of model.acknowledged) {
    if (!byId.has(id)) problems.push(`invariant 6: acknowledged order ${id} is gone`);
  }
  // A paid order leaves `paid` only by a refund, which only goes forward once begun.
  const refundStates = ['refunding', 'refunded'];
  for (const id of model.paidAck) {
    const status = byId.get(id)?.status ?? 'gone';
    const refunding = model.refundBegun.has(id) && refundStates.includes(status);
    if (status !== 'paid' && !refunding)
      problems.push(`invariant 6: order ${id} was answered paid, is ${status}`);
  }
  // A member answered `grouped` paid into escrow: it stays grouped until its group ends, paid
  // (complete) or refunded (failed, or its brand's refund once complete).
  for (const id of model.groupedAck) {
    const status = byId.get(id)?.status ?? 'gone';
    const refunding = model.refundBegun.has(id) && refundStates.includes(status);
    if (status !== 'grouped' && status !== 'paid' && !refunding)
      problems.push(`invariant 6: order ${id} was answered grouped, is ${status}`);
  }
  for (const id of model.refundedAck) {
    const status = byId.get(id)?.status;
    if (status !== 'refunded')
      problems.push(`invariant 6: order ${id} was answered refunded, is ${status}`);
  }
  for (const [id, d] of model.debited) {
    const status = byId.get(id)?.status ?? 'gone';
    const fine = model.refunded.has(id)
      ? refundStates.includes(status)
      : status === 'paid' ||
        status === 'paying' ||
        (d.escrow && status === 'grouped') ||
        (model.refundBegun.has(id) && status === 'refunding');
    if (!fine) {
      const money = model.refunded.has(id) ? 'debited and refunded' : 'debited';
      problems.push(`invariant 5: order ${id} was ${money}, is ${status}`);
    }
  }
  for (const o of sale.orders) {
    if (refundStates.includes(o.status) && !model.refundBegun.has(o.id)) {
      problems.push(`invariant 9: order ${o.id} is ${o.status}, but no refund was asked`);
    }
  }
  for (const o of sale.orders) {
    if (!model.orderIds.includes(o.id) && allocationKindOf(o.id) === 'grab') {
      problems.push(`order ${o.id} was grabbed, but no grab was answered with it`);
    }
  }
  for (const fanId of model.fans) {
    const balance = await world.ledger.balance(fanId, model.drop.currency);
    if (balance !== model.balanceOf(fanId)) {
      problems.push(
        `invariant 4: fan ${fanId} holds ${balance}, the model (credits - payments + refunds + ` +
          `rewards - reversals) says ${model.balanceOf(fanId)}`,
      );
    }
  }
  const escrow = (await world.facts.escrowByDrop()).get(model.drop.id) ?? 0;
  if (escrow !== model.escrowHeld()) {
    problems.push(
      `invariant 9: the drop's escrow holds ${escrow}, the model (members' payments neither ` +
        `released nor refunded) says ${model.escrowHeld()}`,
    );
  }
  problems.push(...(await checkGroups(world, model, sale)));
  if (problems.length > 0) throw new InvariantBroken(problems.join('\n'));
  model.learn(sale.orders);
  model.last = sale;
  return sale;
}

/** Where a group's status may go from each status (libs/inventory README "Group buy"). */
const GROUP_NEXT: Record<InventoryGroup['status'], readonly InventoryGroup['status'][]> = {
  open: ['open', 'completing', 'complete', 'failing', 'failed'],
  completing: ['completing', 'complete'],
  complete: ['complete'],
  failing: ['failing', 'failed'],
  failed: ['failed'],
};
const LIVE_MEMBER = ['held', 'paying', 'grouped', 'paid'];

/**
 * Group buy, what the model knows of each group the drop's orders name (read into
 * `model.groups` for the next step): its status only went forward from the last step's (a
 * group completes or fails, once); each order naming it is one of its members; while it is
 * not complete its `members` are the member orders now held, paying, grouped or paid (a seat
 * frees with its hold), and while open its `paidMembers` the grouped ones.
 */
async function checkGroups(world: World, model: SaleModel, sale: StoredSale): Promise<string[]> {
  const problems: string[] = [];
  const ids = new Set([...model.groups.keys()]);
  for (const o of sale.orders) if (o.groupId !== undefined) ids.add(o.groupId);
  const seen = new Map<string, InventoryGroup>();
  for (const id of ids) {
    const g = await world.inventory.group(model.drop.id, id);
    if (!g) {
      problems.push(`group ${id}: gone from Redis`);
      continue;
    }
    seen.set(id, g);
    const was = model.groups.get(id)?.status ?? 'open';
    if (!GROUP_NEXT[was].includes(g.status)) problems.push(`group ${id}: ${was} -> ${g.status}`);
    if (g.size !== model.drop.groupSize) {
      problems.push(`group ${id}: size ${g.size}, the drop's groupSize ${model.drop.groupSize}`);
    }
    const members = new Set(await world.inventory.groupMembers(model.drop.id, id));
    const named = sale.orders.filter((o) => o.groupId === id);
    for (const o of named) {
      if (!members.has(o.id)) problems.push(`group ${id}: order ${o.id} names it, not a member`);
    }
    const live = named.filter((o) => LIVE_MEMBER.includes(o.status)).length;
    if (g.status !== 'complete' && g.members !== live) {
      problems.push(`group ${id} (${g.status}): members ${g.members}, live member orders ${live}`);
    }
    const grouped = named.filter((o) => o.status === 'grouped').length;
    if (g.status === 'open' && g.paidMembers !== grouped) {
      problems.push(`group ${id} (open): paidMembers ${g.paidMembers}, grouped members ${grouped}`);
    }
  }
  for (const [id, g] of seen) model.groups.set(id, g);
  return problems;
}
