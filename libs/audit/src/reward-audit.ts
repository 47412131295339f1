import { InventoryOrder } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { Breach } from './breach';

/** Orders whose payment stands in the ledger: paid, and paid then refunded (or being). */
const PAID_ONCE: readonly string[] = ['paid', 'refunding', 'refunded'];

/**
 * Invariant 9, referral rewards (docs/api.md "Campaigns"), across the ledger and the orders in
 * Redis: every paid order that owes a reward (its hold step recorded `referrerId` and
 * `rewardMinor`) paid exactly that reward, once, to that referrer, from the revenue shard its
 * payment credited; no reward without a paid order owing it, none to the payer; a refunded
 * order's reward was reversed, as far as the referrer's balance went, with the rest recorded as
 * borne by the brand (`unrecoveredMinor`, reported, not a breach), and money a refund moved
 * between the brand's shards stays within that brand's revenue. A group member's reward rides
 * on its escrow's release instead of its debit, so only a released member owes it. Rewards
 * therefore equal the referred paid (and, in groups, released) orders times their reward.
 */
export async function auditRewards(
  ledger: LedgerFacts,
  orders: ReadonlyMap<string, InventoryOrder>,
  dropIds?: readonly string[],
): Promise<{ breaches: Breach[]; unrecoveredMinor: number }> {
  const breaches: Breach[] = [];
  const breach = (subject: string, message: string) =>
    breaches.push({ invariant: 9, subject, message });
  const inScope = (orderId: string) =>
    !dropIds || dropIds.some((dropId) => orderId.startsWith(`${dropId}-`));

  let unrecoveredMinor = 0;
  const rewarded = new Set<string>();
  const released = await ledger.releasesByOrder();
  for (const r of await ledger.rewardsByOrder()) {
    if (!inScope(r.orderId)) continue;
    rewarded.add(r.orderId);
    const subject = `order ${r.orderId}`;
    if (r.count !== 1) breach(subject, `rewarded ${r.count} times`);
    if (r.payerId === undefined) {
      breach(subject, `a reward of ${r.amount} to ${r.referrerId} but no payment`);
      continue;
    }
    if (r.referrerId === r.payerId)
      breach(subject, `${r.payerId} was rewarded for their own order`);
    if (!r.fromPaymentShardToReferrer) {
      breach(subject, `the reward does not move from the payment's shard to ${r.referrerId}`);
    }
    const order = orders.get(r.orderId);
    if (order) {
      // The reward rides on the payment's debit, so a `paying` order whose debit committed (its
      // payer died before complete_payment) has it too, until the payment recovery completes
      // it: the same window auditMoney allows the debit (and bounds: stuck in paying).
      // A group member's reward rides on its release, so a member released but still `grouped`
      // (its completer died before finish_group) has it too: auditGroups allows that window in
      // a `completing` group only.
      const paidOrPaying =
        PAID_ONCE.includes(order.status) ||
        order.status === 'paying' ||
        (order.status === 'grouped' && released.has(r.orderId));
      if (!paidOrPaying) breach(subject, `rewarded but ${order.status}`);
      if (order.referrerId !== r.referrerId || order.rewardMinor !== r.amount) {
        breach(
          subject,
          `rewarded ${r.amount} to ${r.referrerId}; the order owes ` +
            `${order.rewardMinor ?? 0} to ${order.referrerId ?? 'nobody'}`,
        );
      }
    }
    if (r.refunded) {
      if (!r.refundRecordsReward || r.reversed + r.unrecovered !== r.amount) {
        breach(
          subject,
          `refunded: reversed ${r.reversed} + borne by the brand ${r.unrecovered} is not the ` +
            `reward ${r.amount}`,
        );
      }
      unrecoveredMinor += r.unrecovered;
    } else if (r.reversals > 0) {
      breach(subject, `the reward was reversed but the order never refunded`);
    }
    if (r.reversals > 1) breach(subject, `the reward reversed ${r.reversals} times`);
    if (!r.reversalFromReferrer) breach(subject, `a reversal takes from someone not the referrer`);
  }
  for (const id of await ledger.revenueMovesAmiss()) {
    breach(`transfer ${id}`, `a revenue move outside one brand's revenue, or of no refund`);
  }
  for (const [orderId, n] of await ledger.reversalsWithoutReward()) {
    if (inScope(orderId)) breach(`order ${orderId}`, `${n} reward reversals but no reward`);
  }
  // A group member's reward is paid by its escrow's release, not its debit (docs/api.md
  // "Campaigns"): a member of a failed group, refunded from escrow, never owed it.
  for (const order of orders.values()) {
    // A paying order may have its reward in a debit not yet completed: invariant 5's side.
    if (order.rewardMinor === undefined || !PAID_ONCE.includes(order.status)) continue;
    if (order.groupId !== undefined && !released.has(order.id)) continue;
    if (order.referrerId === order.fanId) {
      breach(`order ${order.id}`, `owes its own fan a referral reward`);
    }
    if (!rewarded.has(order.id)) {
      breach(
        `order ${order.id}`,
        `${order.status} with a reward of ${order.rewardMinor} never paid`,
      );
    }
  }
  return { breaches, unrecoveredMinor };
}
