import { auditDrop, INVARIANTS } from '@flashdrop/audit';
import { allocationKindOf, StoredSale } from '@flashdrop/inventory';
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
  for (const id of model.refundedAck) {
    const status = byId.get(id)?.status;
    if (status !== 'refunded')
      problems.push(`invariant 6: order ${id} was answered refunded, is ${status}`);
  }
  for (const [id] of model.debited) {
    const status = byId.get(id)?.status ?? 'gone';
    const fine = model.refunded.has(id)
      ? refundStates.includes(status)
      : status === 'paid' ||
        status === 'paying' ||
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
  if (problems.length > 0) throw new InvariantBroken(problems.join('\n'));
  model.learn(sale.orders);
  model.last = sale;
  return sale;
}
