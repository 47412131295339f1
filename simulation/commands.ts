import { DomainError, Principal } from '@flashdrop/contracts';
import {
  Allocation,
  allocationKindOf,
  GrabOutcome,
  InventoryOrder,
  OutboxStreamGroups,
  StoredSale,
} from '@flashdrop/inventory';
import { dropKeys, moveHoldDeadline, setDropTimes } from '@flashdrop/testing';
import fc from 'fast-check';
import { checkStep, InvariantBroken } from './checks';
import { Coverage, Fault, Transition } from './coverage';
import { PayerKilled, ReplyLost } from './faults';
import { SaleModel } from './model';
import { SIM_PAYMENT_WINDOW_MS, World } from './world';

/** What a command runs against: the world, and the coverage of this run. */
export interface Real {
  readonly world: World;
  readonly coverage: Coverage;
  /** Units the sweeper returned during the current step (who expired a hold: it, or a touch). */
  sweptUnits: number;
}

type Step = (m: SaleModel, r: Real) => Promise<void>;

/**
 * One step of a seed, as fast-check's model-based testing wants it: always applicable (a step
 * that finds nothing to act on is a no-op, so shrinking can drop any step), run against the
 * real parts, then the invariants (checks.ts). `label` is what a failing sequence prints.
 */
class SimCommand implements fc.AsyncCommand<SaleModel, Real> {
  constructor(
    private readonly label: string,
    private readonly step: Step,
  ) {}

  check(): boolean {
    return true;
  }

  async run(m: SaleModel, r: Real): Promise<void> {
    const n = ++m.steps;
    r.sweptUnits = 0;
    try {
      await this.step(m, r);
    } catch (e) {
      throw new InvariantBroken(`step ${n} (${this.label}): ${(e as Error).message}`);
    }
    const before = new Set(m.orderIds);
    const was = new Map((m.last?.orders ?? []).map((o) => [o.id, o.status]));
    const sale = await checkStep(r.world, m).catch((e: Error) => {
      throw new InvariantBroken(`after step ${n} (${this.label}): ${e.message}`);
    });
    for (const o of sale.orders) {
      // A hold the sale made in this step (a grab, a draw, a backfill) costs what the model says
      // (the share discount when its fan shared before) and owes the reward the model says (its
      // fan's referrer, from the reservation, when the drop pays one).
      if (!was.has(o.id)) checkNewHold(m, o, n, this.label);
      // A hold that expired in this step: by the sweeper (it returned units in this step), or
      // by the clock at its next touch. The expiries are the transitions counted; a sweeper pass
      // that found nothing is only an outcome (`expire-sweeper:pass`).
      if (o.status === 'expired' && (was.get(o.id) === 'held' || was.get(o.id) === 'paying')) {
        r.coverage.add(r.sweptUnits > 0 ? 'expire-sweeper' : 'expire-clock');
      }
      if (before.has(o.id)) continue;
      const kind = allocationKindOf(o.id);
      if (kind === 'backfill') r.coverage.add('backfill');
      if (kind !== 'grab') m.acknowledged.add(o.id);
    }
    r.coverage.steps++;
  }

  toString(): string {
    return this.label;
  }
}

function checkNewHold(m: SaleModel, o: InventoryOrder, n: number, label: string): void {
  const want = m.expectedHold(o.fanId);
  const got = {
    unitPriceMinor: o.unitPriceMinor,
    referrerId: o.referrerId,
    rewardMinor: o.rewardMinor,
  };
  if (
    got.unitPriceMinor !== want.unitPriceMinor ||
    got.referrerId !== want.referrerId ||
    got.rewardMinor !== want.rewardMinor
  ) {
    throw new InvariantBroken(
      `after step ${n} (${label}): the new hold ${o.id} of ${o.fanId} is ${JSON.stringify(got)}, ` +
        `the model says ${JSON.stringify(want)} (shared ${m.shared.has(o.fanId)})`,
    );
  }
}

const fanIndex = fc.nat({ max: 7 });
const orderIndex = fc.nat({ max: 40 });

function command<A>(arb: fc.Arbitrary<A>, label: (a: A) => string, step: (a: A) => Step) {
  return arb.map((a) => new SimCommand(label(a), step(a)));
}

function fail(message: string): never {
  throw new InvariantBroken(message);
}

function codeOf(e: unknown): string {
  if (e instanceof DomainError) return e.code;
  throw e;
}

function count(r: Real, t: Transition | Fault, outcome?: string): void {
  r.coverage.add(t);
  if (outcome !== undefined) r.coverage.add(`${t as Transition}:${outcome}`);
}

async function sale(r: Real, m: SaleModel): Promise<StoredSale> {
  return (await r.world.inventory.storedSale(m.drop.id)) ?? fail('the drop is gone');
}

function units(s: StoredSale): number {
  return s.orders
    .filter((o) => ['held', 'paying', 'paid'].includes(o.status))
    .reduce((n, o) => n + o.quantity, 0);
}

// ---- fans --------------------------------------------------------------------------------

const reserve = command(
  fc.record({ fan: fanIndex, referrer: fc.option(fanIndex, { nil: undefined }) }),
  (a) => `reserve(fan ${a.fan}${a.referrer === undefined ? '' : `, via ${a.referrer}`})`,
  (a) => async (m, r) => {
    await reserveChecked(m, r, a.fan, a.referrer);
  },
);

/** A fan's reservation (with a referrer or not), checked against the model. */
async function reserveChecked(m: SaleModel, r: Real, fan: number, via?: number): Promise<void> {
  const a = { fan, referrer: via };
  const fanId = m.fan(a.fan);
  const referrer = a.referrer === undefined ? undefined : m.fan(a.referrer);
  // Half the self-referrals are sent as they are: the script must not reward oneself.
  const out = await r.world.inventory.reserve(
    m.drop.id,
    fanId,
    referrer === fanId && a.fan % 2 === 0 ? undefined : referrer,
    m.tierOf(fanId),
  );
  count(r, 'reserve', out.ok ? (out.value.created ? 'created' : 'again') : out.code);
  if (referrer === fanId && a.fan % 2 === 1) count(r, 'reserve', 'self-referral');
  if (!m.admits(fanId) && (out.ok || out.code !== 'MEMBERS_ONLY')) {
    fail(`reserve(${fanId}) without the tier answered ${out.ok ? 'ok' : out.code}`);
  }
  if (!out.ok && (await r.world.inventory.isReserved(m.drop.id, fanId)) !== m.reserved.has(fanId)) {
    fail(`reserve(${fanId}) refused ${out.code} but wrote a reservation`);
  }
  if (out.ok) {
    if (out.value.created === m.reserved.has(fanId)) {
      fail(`reserve(${fanId}): created=${out.value.created}, the model says reserved before`);
    }
    m.reserved.add(fanId);
    if (out.value.created && referrer !== undefined && referrer !== fanId) {
      m.referrers.set(fanId, referrer);
    }
  }
}

const share = command(
  fc.record({ fan: fanIndex, channel: fc.constantFrom('wechat', 'weibo', 'link') }),
  (a) => `share(fan ${a.fan}, ${a.channel})`,
  (a) => async (m, r) => {
    const out = await r.world.inventory.share(m.drop.id, m.fan(a.fan), a.channel);
    count(r, 'share', out.ok ? 'ok' : out.code);
    if (out.ok) {
      count(r, 'share', m.orderIds.length === 0 ? 'before-any-grab' : 'after-a-grab');
      m.shared.add(m.fan(a.fan));
    }
  },
);

const grab = command(
  fc.record({
    fan: fanIndex,
    quantity: fc.constantFrom(1, 1, 1, 2),
    keyed: fc.boolean(),
    lostReply: fc.boolean(),
  }),
  (a) =>
    `grab(fan ${a.fan}, x${a.quantity}${a.keyed || a.lostReply ? ', keyed' : ''}${a.lostReply ? ', reply lost + retry' : ''})`,
  (a) => async (m, r) => {
    await grabChecked(m, r, a);
  },
);

interface GrabArgs {
  readonly fan: number;
  readonly quantity: number;
  readonly keyed: boolean;
  readonly lostReply: boolean;
}

/** A fan's grab, checked against the state before it (see the grab step); answers its outcome. */
async function grabChecked(m: SaleModel, r: Real, a: GrabArgs): Promise<GrabOutcome> {
  const fanId = m.fan(a.fan);
  const before = await sale(r, m);
  const view = await r.world.inventory.viewDrop(m.drop.id);
  const key = a.keyed || a.lostReply ? `g-${m.steps}` : undefined;
  const req = {
    dropId: m.drop.id,
    fanId,
    quantity: a.quantity,
    idempotencyKey: key,
    tier: m.tierOf(fanId),
  };
  let out = await r.world.inventory.grab(req);
  if (a.lostReply) {
    // The answer never reached the fan: the retry with the same key must answer the same.
    count(r, 'lost-reply-retry');
    const again = await r.world.inventory.grab(req);
    if (again.ok !== out.ok) fail(`grab retry answered ok=${again.ok}, first ok=${out.ok}`);
    if (again.ok && out.ok && (again.order.id !== out.order.id || !again.replayed)) {
      fail(`grab retry gave ${again.order.id} (replayed ${again.replayed}), first ${out.order.id}`);
    }
    out = again;
  }
  count(r, 'grab', out.ok ? 'ok' : out.code);
  const after = await sale(r, m);
  const mine = before.unitsPerFan.get(fanId) ?? 0;
  const d = before.definition;
  const open =
    view !== undefined &&
    ['on_sale', 'sold_out'].includes(view.phase) &&
    d.allocation === 'first_come';
  const eligible = m.admits(fanId) && (!d.reservationRequired || m.reserved.has(fanId));
  if (!m.admits(fanId)) count(r, 'grab', 'without-the-tier');
  const canHave = a.quantity <= d.perUserLimit && mine + a.quantity <= d.perUserLimit;
  const expectOk = open && eligible && canHave && before.stock >= a.quantity;
  if (out.ok) {
    if (!expectOk) {
      fail(
        `grab(${fanId} x${a.quantity}) accepted: phase ${view?.phase}, stock ${before.stock}, ` +
          `fan holds ${mine} of ${d.perUserLimit}, reserved ${m.reserved.has(fanId)}`,
      );
    }
    if (after.stock !== before.stock - a.quantity) {
      fail(`grab x${a.quantity}: stock ${before.stock} -> ${after.stock}`);
    }
    m.orderIds.push(out.order.id);
    m.acknowledged.add(out.order.id);
    if (m.shared.has(fanId) && (d.shareDiscountMinor ?? 0) > 0) count(r, 'grab', 'discounted');
  } else {
    if (!m.admits(fanId) && out.code !== 'MEMBERS_ONLY') {
      fail(`grab(${fanId}) without the tier refused ${out.code}, not MEMBERS_ONLY`);
    }
    if (expectOk) fail(`grab(${fanId} x${a.quantity}) refused ${out.code}, the model expected it`);
    if (after.stock !== before.stock || after.orders.length !== before.orders.length) {
      fail(`grab refused ${out.code} but wrote: stock ${before.stock} -> ${after.stock}`);
    }
  }
  return out;
}

/**
 * What most fans do: grab one unit and pay for it at once, topping their wallet up first when
 * it holds too little (a credit, as the operator's top-up). The sale's paid orders are what
 * refunds and referral rewards act on; without this step most holds expire before a payment.
 */
const purchase = command(
  fc.record({
    fan: fanIndex,
    via: fc.option(fanIndex, { nil: undefined }),
    topUp: fc.constantFrom(true, true, true, false),
  }),
  (a) =>
    `purchase(fan ${a.fan}: ${a.via === undefined ? '' : `reserve via ${a.via}, `}grab x1, ` +
    `${a.topUp ? 'top up if short, ' : ''}pay)`,
  (a) => async (m, r) => {
    const fanId = m.fan(a.fan);
    // A fan who came through a friend's link reserves with them as the referrer first (where
    // the drop still takes reservations): the order it then buys owes that friend a reward.
    if (a.via !== undefined) await reserveChecked(m, r, a.fan, a.via);
    const out = await grabChecked(m, r, {
      fan: a.fan,
      quantity: 1,
      keyed: false,
      lostReply: false,
    });
    if (!out.ok) return;
    if (a.topUp && m.balanceOf(fanId) < out.order.amountMinor) {
      const req = {
        fanId,
        amountMinor: m.drop.priceMinor,
        currency: m.drop.currency,
        reference: `sim-credit-${m.creditSeq++}`,
      };
      await r.world.ledger.credit(req);
      count(r, 'credit');
      m.credited.set(fanId, (m.credited.get(fanId) ?? 0) + req.amountMinor);
    }
    const outcome = await payOnce(m, r, out.order.id, fanId);
    count(r, 'pay', outcome);
    takeDebits(m, r);
    if (outcome === 'INSUFFICIENT_FUNDS' && m.balanceOf(fanId) >= out.order.amountMinor) {
      fail(`INSUFFICIENT_FUNDS for ${fanId}, who holds ${m.balanceOf(fanId)}`);
    }
  },
);

/**
 * The rush in one step: the fans, in a drawn order, each grab one unit until the drop is sold
 * out, then the rest queue (each grab and join checked as the single steps check theirs). What a
 * first-come drop meets in its first second, and what makes the later releases pass down the
 * line.
 */
const rush = command(
  fanIndex,
  (start) => `rush (fans from ${start}: grab one each, then queue)`,
  (start) => async (m, r) => {
    for (let i = 0; i < m.fans.length; i++) {
      const fanId = m.fan(start + i);
      const before = await sale(r, m);
      const out = await r.world.inventory.grab({
        dropId: m.drop.id,
        fanId,
        quantity: 1,
        tier: m.tierOf(fanId),
      });
      count(r, 'grab', out.ok ? 'ok' : out.code);
      if (out.ok) {
        const after = await sale(r, m);
        if (before.stock < 1 || after.stock !== before.stock - 1) {
          fail(`rush grab by ${fanId}: stock ${before.stock} -> ${after.stock}`);
        }
        m.orderIds.push(out.order.id);
        m.acknowledged.add(out.order.id);
        continue;
      }
      if (out.code !== 'SOLD_OUT') continue;
      const joined = await r.world.inventory.joinWaitlist(m.drop.id, fanId, m.tierOf(fanId));
      count(
        r,
        'waitlist-join',
        joined.ok ? (joined.value.created ? 'created' : 'again') : joined.code,
      );
    }
  },
);

const joinWaitlist = command(
  fanIndex,
  (fan) => `waitlist(fan ${fan})`,
  (fan) => async (m, r) => {
    const fanId = m.fan(fan);
    const inLine = (await r.world.inventory.standing(m.drop.id, fanId))?.waitlistPosition;
    const out = await r.world.inventory.joinWaitlist(m.drop.id, fanId, m.tierOf(fanId));
    count(r, 'waitlist-join', out.ok ? (out.value.created ? 'created' : 'again') : out.code);
    if (!m.admits(fanId) && (out.ok || out.code !== 'MEMBERS_ONLY')) {
      fail(`waitlist(${fanId}) without the tier answered ${out.ok ? 'ok' : out.code}`);
    }
    if (
      !out.ok &&
      (await r.world.inventory.standing(m.drop.id, fanId))?.waitlistPosition !== inLine
    ) {
      fail(`waitlist(${fanId}) refused ${out.code} but moved the fan's place`);
    }
    if (out.ok && out.value.created !== (inLine === undefined)) {
      fail(`${fanId} at place ${inLine ?? '-'} joined: created=${out.value.created}`);
    }
    if (out.ok && !out.value.created && out.value.position !== inLine) {
      fail(`${fanId} at place ${inLine} joined again at ${out.value.position}`);
    }
  },
);

const cancel = command(
  orderIndex,
  (i) => `cancel(order #${i})`,
  (i) => async (m, r) => {
    const id = m.pickOrder(i);
    if (!id) return;
    const before = await r.world.inventory.getOrder(id);
    const now = await r.world.now();
    const out = await r.world.inventory.cancelOrder(id, before?.fanId);
    count(r, 'cancel', out.ok ? 'ok' : out.code);
    if (before?.status === 'held' && before.expiresAt > now + 50 && !out.ok) {
      fail(`cancel of a live held order refused ${out.code}`);
    }
    if (out.ok && !['held', 'cancelled'].includes(before?.status ?? '')) {
      fail(`cancel of a ${before?.status} order answered ok`);
    }
  },
);

// ---- money ---------------------------------------------------------------------------------

const credit = command(
  fc.record({ fan: fanIndex, times: fc.constantFrom(1, 2, 3), lostReply: fc.boolean() }),
  (a) => `credit(fan ${a.fan}, ${a.times}x price${a.lostReply ? ', reply lost + retry' : ''})`,
  (a) => async (m, r) => {
    const fanId = m.fan(a.fan);
    const reference = `sim-credit-${m.creditSeq++}`;
    const req = {
      fanId,
      amountMinor: a.times * m.drop.priceMinor,
      currency: m.drop.currency,
      reference,
    };
    await r.world.ledger.credit(req);
    if (a.lostReply) {
      count(r, 'lost-reply-retry');
      await r.world.ledger.credit(req);
    }
    count(r, 'credit');
    m.credited.set(fanId, (m.credited.get(fanId) ?? 0) + req.amountMinor);
  },
);

type PayMode =
  | 'once'
  | 'repeated'
  | 'concurrent'
  | 'lost-wallet-reply'
  | 'lost-api-reply'
  | 'kill-before-debit'
  | 'kill-after-debit';

/** One client's pay of an order, as the API would answer it: 'paid' or a code. */
async function payOnce(m: SaleModel, r: Real, orderId: string, fanId: string, key?: string) {
  try {
    const o = await r.world.payments.pay(orderId, fanId, key);
    if (o.status !== 'paid') fail(`pay answered ${o.status}`);
    m.paidAck.add(orderId);
    return 'paid';
  } catch (e) {
    if (e instanceof PayerKilled) return 'killed';
    if (e instanceof ReplyLost) return 'lost';
    return codeOf(e);
  }
}

/**
 * The debits the wallet answered during a step, into the model, each checked against it: an
 * attempt's first answer follows the fan's balance; the same attempt asked again answers what
 * it answered first (the wallet records one outcome per attempt).
 */
function takeDebits(m: SaleModel, r: Real): void {
  for (const { request, reply } of r.world.faults.takeDebits()) {
    const attempt = `${request.orderId}@${request.attempt}`;
    const first = m.attempts.get(attempt);
    if (first !== undefined) {
      if (reply.outcome !== first)
        fail(`attempt ${attempt} answered ${first}, now ${reply.outcome}`);
      continue;
    }
    m.attempts.set(attempt, reply.outcome);
    const balance = m.balanceOf(request.fanId);
    if (reply.outcome === 'debited') {
      if (m.debited.has(request.orderId)) fail(`order ${request.orderId} debited twice`);
      if (balance < request.amountMinor) {
        fail(`debited ${request.amountMinor} of ${request.fanId}, who holds ${balance}`);
      }
      m.debited.set(request.orderId, { fanId: request.fanId, amount: request.amountMinor });
      // The payment's own transaction paid the order's referral reward (invariant 9): the model
      // credits the referrer; the ledger's balances and the audit's reward checks must agree.
      if (request.referrerId !== undefined && (request.rewardMinor ?? 0) > 0) {
        if (request.referrerId === request.fanId)
          fail(`${request.fanId} rewarded for their own order`);
        m.rewards.set(request.orderId, {
          referrerId: request.referrerId,
          amount: request.rewardMinor ?? 0,
        });
        count(r, 'referral-reward');
      }
    } else if (reply.outcome === 'declined' && balance >= request.amountMinor) {
      fail(`declined ${request.amountMinor} of ${request.fanId}, who holds ${balance}`);
    }
  }
}

const pay = command(
  fc.record({
    order: orderIndex,
    // Repeated and concurrent payments weigh most: each is the contract's own transition, and
    // the faults (lost replies, kills) are counted in their hundreds at one share each.
    mode: fc.constantFrom<PayMode>(
      'once',
      'repeated',
      'repeated',
      'repeated',
      'concurrent',
      'concurrent',
      'concurrent',
      'lost-wallet-reply',
      'lost-api-reply',
      'kill-before-debit',
      'kill-after-debit',
    ),
    keyed: fc.boolean(),
  }),
  (a) => `pay(order #${a.order}, ${a.mode}${a.keyed ? ', keyed' : ''})`,
  (a) => async (m, r) => {
    const id = m.pickOrder(a.order);
    if (!id) return;
    const order = await r.world.inventory.getOrder(id);
    if (!order) fail(`order ${id} is gone`);
    const key = a.keyed ? `p-${id}` : undefined;
    const once = () => payOnce(m, r, id, order.fanId, key);
    let outcome: string;
    switch (a.mode) {
      case 'once':
        outcome = await once();
        count(r, 'pay', outcome);
        break;
      case 'repeated': {
        const first = await once();
        outcome = await once();
        if (first === 'paid' && outcome !== 'paid') fail(`paid, then paying again: ${outcome}`);
        count(r, 'pay-repeated', outcome);
        break;
      }
      case 'concurrent': {
        const both = await Promise.all([once(), once()]);
        outcome = both.includes('paid') ? 'paid' : both[0];
        count(r, 'pay-concurrent', both.join('+'));
        break;
      }
      case 'lost-wallet-reply':
      case 'lost-api-reply': {
        if (a.mode === 'lost-wallet-reply') r.world.faults.arm('lose-reply');
        const first = await once();
        // The fan saw nothing (a lost API answer is a lost answer): it pays again.
        outcome = await once();
        count(r, 'lost-reply-retry');
        count(r, 'pay', outcome);
        if (first === 'paid' && outcome !== 'paid') fail(`paid, then the retry: ${outcome}`);
        break;
      }
      case 'kill-before-debit':
      case 'kill-after-debit':
        r.world.faults.arm(a.mode === 'kill-before-debit' ? 'crash-before' : 'crash-after');
        outcome = await once();
        count(r, a.mode, outcome);
        count(r, 'pay', outcome);
        break;
    }
    r.world.faults.clear();
    takeDebits(m, r);
    if (outcome === 'INSUFFICIENT_FUNDS' && m.balanceOf(order.fanId) >= order.amountMinor) {
      fail(`INSUFFICIENT_FUNDS for ${order.fanId}, who holds ${m.balanceOf(order.fanId)}`);
    }
  },
);

// ---- refunds (the brand's or an operator's) --------------------------------------------------

type RefundMode =
  | 'once'
  | 'repeated'
  | 'concurrent'
  | 'lost-reply'
  | 'kill-before-refund'
  | 'kill-after-refund'
  | 'pay-retry'
  | 'recovery'
  | 'other-brand';

const BRAND: Principal = { sub: 'brand-sim', role: 'brand', exp: 0 };
const OPERATOR: Principal = { sub: 'operator-sim', role: 'operator', exp: 0 };
const OTHER_BRAND: Principal = { sub: 'brand-other', role: 'brand', exp: 0 };

/** One refunder's call, as the API would answer it: 'refunded', a code, or the fault met. */
async function refundOnce(m: SaleModel, r: Real, orderId: string, caller: Principal) {
  try {
    const o = await r.world.refunds.refund(caller, orderId, 'simulated refund');
    if (o.status !== 'refunded') fail(`refund answered ${o.status}`);
    m.refundedAck.add(orderId);
    return 'refunded';
  } catch (e) {
    if (e instanceof PayerKilled) return 'killed';
    if (e instanceof ReplyLost) return 'lost';
    return codeOf(e);
  }
}

/**
 * The refunds the wallet answered during a step, into the model, each checked against it
 * (invariant 9: each refund reverses one payment, once): the first gives back exactly what the
 * order's payment took, to its payer, and takes back the order's referral reward as far as the
 * referrer's balance goes (the brand bears the rest); any later one answers `already` and moves
 * nothing. Runs after takeDebits: a payment of the step comes before its refund.
 */
function takeRefunds(m: SaleModel, r: Real): void {
  const rank = (outcome: string) => (outcome === 'refunded' ? 0 : 1);
  const replies = r.world.faults
    .takeRefunds()
    .sort((a, b) => rank(a.reply.outcome) - rank(b.reply.outcome));
  for (const { request, reply } of replies) {
    const id = request.orderId;
    if (reply.outcome === 'not_paid') fail(`the wallet has no payment of ${id} to refund`);
    const payment = m.debited.get(id) ?? fail(`refund of ${id}, which the model never saw paid`);
    if (reply.outcome === 'declined') {
      // Nothing moved; the wallet must decline only what the brand's whole revenue cannot pay.
      if (m.refundFunded(id)) fail(`refund of ${id} declined, but the brand can pay it`);
      continue;
    }
    if (reply.outcome === 'already') {
      if (!m.refunded.has(id)) fail(`refund of ${id} answered already, but none moved money`);
      continue;
    }
    if (m.refunded.has(id)) fail(`order ${id} refunded twice`);
    if (reply.amountMinor !== payment.amount) {
      fail(`refund of ${id} gave back ${reply.amountMinor}, its payment took ${payment.amount}`);
    }
    const reward = m.rewards.get(id);
    const owed = reward?.amount ?? 0;
    const reversible = reward ? Math.min(owed, m.balanceOf(reward.referrerId)) : 0;
    if (
      reply.rewardReversedMinor !== reversible ||
      reply.rewardReversedMinor + reply.rewardUnrecoveredMinor !== owed
    ) {
      fail(
        `refund of ${id}: reward ${owed} reversed ${reply.rewardReversedMinor} + borne ` +
          `${reply.rewardUnrecoveredMinor}; the referrer held ${reward ? m.balanceOf(reward.referrerId) : 0}`,
      );
    }
    m.refunded.set(id, { fanId: payment.fanId, amount: payment.amount });
    if (reward) {
      m.reversals.set(id, { referrerId: reward.referrerId, amount: reply.rewardReversedMinor });
      count(r, 'reward-reversal', reply.rewardUnrecoveredMinor > 0 ? 'in-part' : 'whole');
    }
  }
}

/** Units of a drop not in the sale's hands: in stock, or parked by a pause for the line. */
async function freeUnits(r: Real, m: SaleModel): Promise<number> {
  const k = dropKeys(m.drop.id);
  const [stock, parked] = await Promise.all([
    r.world.redis.get(k.stock),
    r.world.redis.llen(k.parked),
  ]);
  return Number(stock ?? 0) + parked;
}

/**
 * After a step that completed refunds: each refunded order's units went down the line (a
 * backfill from it) or back to stock (or parked while paused), exactly once, and nothing else
 * moved units in the step.
 */
async function checkRefundedUnits(
  r: Real,
  m: SaleModel,
  before: StoredSale,
  freeBefore: number,
): Promise<void> {
  const was = new Map(before.orders.map((o) => [o.id, o.status]));
  const after = await sale(r, m);
  const done = after.orders.filter((o) => o.status === 'refunded' && was.get(o.id) !== 'refunded');
  const ids = new Set(done.map((o) => o.id));
  const freed = done.reduce((n, o) => n + o.quantity, 0);
  const passedDown = after.orders
    .filter((o) => !was.has(o.id) && o.fromOrderId !== undefined && ids.has(o.fromOrderId))
    .reduce((n, o) => n + o.quantity, 0);
  const toStock = (await freeUnits(r, m)) - freeBefore;
  if (toStock + passedDown !== freed) {
    fail(
      `refunds of ${[...ids].join(' ')} freed ${freed} units: ${passedDown} went down the line, ` +
        `stock and parked moved by ${toStock}`,
    );
  }
  if (passedDown > 0) count(r, 'refund', 'unit-to-the-line');
  if (toStock > 0) count(r, 'refund', 'unit-to-stock');
}

const refund = command(
  fc.record({
    order: orderIndex,
    // The contract's own refund transitions weigh most (a repeat, two at once, a refund racing
    // the fan's payment retry); the faults and refusals are counted in their hundreds at one
    // share each.
    mode: fc.constantFrom<RefundMode>(
      'once',
      'repeated',
      'repeated',
      'repeated',
      'concurrent',
      'concurrent',
      'concurrent',
      'pay-retry',
      'pay-retry',
      'pay-retry',
      'lost-reply',
      'kill-before-refund',
      'kill-after-refund',
      'recovery',
      'other-brand',
    ),
    operator: fc.boolean(),
  }),
  (a) => `refund(order #${a.order}, ${a.mode}${a.operator ? ', by an operator' : ''})`,
  (a) => async (m, r) => {
    const id = m.pickPaid(a.order);
    if (!id) return;
    const before = await sale(r, m);
    const freeBefore = await freeUnits(r, m);
    const order = (await r.world.inventory.getOrder(id)) ?? fail(`order ${id} is gone`);
    const caller = a.mode === 'other-brand' ? OTHER_BRAND : a.operator ? OPERATOR : BRAND;
    // The one refund the wallet declines: the brand's whole revenue cannot pay it (a referrer
    // spent the order's reward); the order goes back to `paid`, 402 (PAYMENTS.md "A refund the
    // brand cannot pay").
    const funded = m.refundFunded(id);
    const once = () => refundOnce(m, r, id, caller);
    // Once begun a refund goes forward or is declined: the model lets the order leave `paid`.
    m.refundBegun.add(id);
    let outcome: string;
    switch (a.mode) {
      case 'once':
      case 'other-brand':
        outcome = await once();
        count(r, 'refund', outcome);
        break;
      case 'repeated': {
        const first = await once();
        outcome = await once();
        if (first === 'refunded' && outcome !== 'refunded') fail(`refunded, then ${outcome}`);
        count(r, 'refund-repeated', outcome);
        break;
      }
      case 'concurrent': {
        const both = await Promise.all([once(), once()]);
        outcome = both.includes('refunded') ? 'refunded' : both[0];
        count(r, 'refund-concurrent', both.join('+'));
        break;
      }
      case 'lost-reply': {
        r.world.faults.armRefund('lose-reply');
        await once();
        // The refunder saw no answer: it asks again (the wallet must not move the money twice).
        outcome = await once();
        count(r, 'lost-reply-retry');
        count(r, 'refund', outcome);
        break;
      }
      case 'kill-before-refund':
      case 'kill-after-refund':
        r.world.faults.armRefund(a.mode === 'kill-before-refund' ? 'crash-before' : 'crash-after');
        outcome = await once();
        count(r, a.mode, outcome);
        count(r, 'refund', outcome);
        break;
      case 'pay-retry': {
        // The fan's payment retry (a lost answer) meets the brand's refund of the same order:
        // the money moves back once and is never taken again.
        const [refunded, paid] = await Promise.all([once(), payOnce(m, r, id, order.fanId)]);
        outcome = refunded;
        count(r, 'refund-race-pay', `${refunded}+${paid}`);
        break;
      }
      case 'recovery': {
        const [refunded, report] = await Promise.all([
          once(),
          r.world.refundRecovery.recoverOnce(0),
        ]);
        outcome = refunded;
        if (report.failed > 0) fail(`the refund recovery failed ${report.failed} refunds`);
        if (report.aborted > unfunded(m, before).length + (funded ? 0 : 1)) {
          fail(`the refund recovery aborted ${report.aborted} refunds`);
        }
        count(r, 'refund', outcome);
        count(r, 'refund-recovery', `${report.completed}c${report.failed}f`);
        break;
      }
    }
    r.world.faults.clear();
    takeDebits(m, r);
    takeRefunds(m, r);
    const after = (await r.world.inventory.getOrder(id)) ?? fail(`order ${id} is gone`);
    if (!['refunding', 'refunded'].includes(after.status)) m.refundBegun.delete(id);
    const refundable = ['paid', 'refunding', 'refunded'].includes(order.status);
    if (a.mode === 'other-brand') {
      if (outcome !== 'NOT_FOUND') fail(`another brand's refund answered ${outcome}`);
    } else if (!refundable) {
      if (outcome !== 'ORDER_NOT_PAID' && !(a.mode === 'pay-retry' && outcome === 'refunded')) {
        fail(`refund of a ${order.status} order answered ${outcome}`);
      }
    } else if (a.mode.startsWith('kill')) {
      if (order.status === 'paid' && after.status !== 'refunding') {
        fail(`a refunder killed half-way left ${after.status}`);
      }
    } else if (!funded && order.status !== 'refunded') {
      count(r, 'refund', 'brand-revenue-short');
      if (outcome !== 'INSUFFICIENT_FUNDS' || after.status !== 'paid') {
        fail(`a refund the brand's revenue cannot pay answered ${outcome}, is ${after.status}`);
      }
    } else if (outcome !== 'refunded' || after.status !== 'refunded') {
      fail(`refund of a ${order.status} order answered ${outcome}, is ${after.status}`);
    }
    // A refusal writes nothing: the order, the units, the money stay as they were (a refund a
    // crash left under way and now declined goes back to paid: that one changes).
    if (
      outcome !== 'refunded' &&
      !a.mode.startsWith('kill') &&
      a.mode !== 'pay-retry' &&
      order.status !== 'refunding'
    ) {
      if (JSON.stringify(after) !== JSON.stringify(order)) {
        fail(`a refused refund (${outcome}) changed ${id}: ${order.status} -> ${after.status}`);
      }
    }
    await checkRefundedUnits(r, m, before, freeBefore);
  },
);

/** The refunds under way the brand's revenue cannot pay (the wallet declines them). */
function unfunded(m: SaleModel, before: StoredSale): string[] {
  return before.orders
    .filter((o) => o.status === 'refunding' && !m.refundFunded(o.id))
    .map((o) => o.id);
}

const recoverRefunds = command(
  fc.constant(null),
  () => 'refund recovery pass',
  () => async (m, r) => {
    const before = await sale(r, m);
    const freeBefore = await freeUnits(r, m);
    // Past the grace of every refund under way (the clock is not bent: the grace is the job's
    // argument, 0 here, as if REFUND_GRACE_MS had passed).
    const short = unfunded(m, before);
    const report = await r.world.refundRecovery.recoverOnce(0);
    count(r, 'refund-recovery', `${report.completed}c${report.aborted}a${report.failed}f`);
    if (report.failed !== 0 || report.aborted !== short.length) {
      fail(
        `the refund recovery failed ${report.failed}, aborted ${report.aborted}; ` +
          `the brand cannot pay ${short.length}`,
      );
    }
    takeRefunds(m, r);
    const after = (await sale(r, m)).orders;
    const left = after.filter((o) => o.status === 'refunding').map((o) => o.id);
    if (left.length > 0) fail(`the refund recovery left ${left.join(' ')} refunding`);
    for (const id of short) {
      const status = after.find((o) => o.id === id)?.status;
      if (status !== 'paid') fail(`a declined refund of ${id} left it ${status}, not paid`);
      m.refundBegun.delete(id);
    }
    await checkRefundedUnits(r, m, before, freeBefore);
  },
);

// ---- time and the worker's jobs ------------------------------------------------------------

const expireByClock = command(
  orderIndex,
  (i) => `clock past the deadline of hold #${i}`,
  (i) => async (m, r) => {
    const id = m.pickHeld(i);
    if (!id) return;
    const o = await r.world.inventory.getOrder(id);
    if (o?.status !== 'held') fail(`order ${id}, held after the last step, is ${o?.status}`);
    count(r, 'clock-past-deadline');
    // The sale clock passes this hold's deadline: the next touch (or the sweeper) expires it.
    await moveHoldDeadline(r.world.redis, id, (await r.world.now()) - 1);
    const touched = await r.world.inventory.cancelOrder(id, o.fanId);
    if (touched.ok || touched.code !== 'HOLD_EXPIRED') {
      fail(`a hold past its deadline answered ${touched.ok ? 'cancelled' : touched.code}`);
    }
  },
);

const agePastDeadline = command(
  fc.record({ hold: orderIndex, every: fc.boolean() }),
  (a) =>
    a.every
      ? 'clock past the deadline of every live hold, then the sweeper'
      : `clock past the deadline of hold #${a.hold}, then the sweeper`,
  (a) => async (m, r) => {
    // The clock passes one hold's deadline, or every live hold's (as time passes for all of
    // them: the sweeper meets a batch). Without a live hold this is a sweeper pass on its own.
    const one = m.pickHeld(a.hold);
    const ids = a.every
      ? (m.last?.orders ?? []).filter((o) => o.status === 'held').map((o) => o.id)
      : one === undefined
        ? []
        : [one];
    const now = await r.world.now();
    for (const id of ids) {
      const o = await r.world.inventory.getOrder(id);
      if (o?.status !== 'held') fail(`order ${id}, held after the last step, is ${o?.status}`);
      count(r, 'clock-past-deadline');
      await moveHoldDeadline(r.world.redis, id, now - 1);
    }
    const before = await sale(r, m);
    await sweepNow(r);
    for (const id of ids) {
      const after = (await r.world.inventory.getOrder(id))?.status;
      if (after !== 'expired') fail(`the sweeper left ${id} ${after}`);
    }
    if (units(await sale(r, m)) > units(before)) fail('the sweeper handed out more than it took');
  },
);

const sweep = command(
  fc.constant(null),
  () => 'sweeper pass',
  () => async (m, r) => {
    await sweepNow(r);
  },
);

/** One pass of the worker's sweeper over every active drop. */
async function sweepNow(r: Real): Promise<void> {
  r.sweptUnits += await r.world.sweeper.sweepOnce();
  r.coverage.add('expire-sweeper:pass');
}

const recover = command(
  fc.constant(null),
  () => 'payment recovery pass (after payingUntil)',
  () => async (m, r) => {
    // The clock passes the payingUntil of every attempt still open (a payer that died): the
    // sale clock is Redis TIME, so this waits (at most SIM_PAYMENT_WINDOW_MS) instead.
    const paying = (await sale(r, m)).orders.filter((o) => o.status === 'paying');
    const until = Math.max(0, ...paying.map((o) => o.payingUntil ?? 0));
    const wait = until - (await r.world.now()) + 2;
    if (wait > 0)
      await new Promise((res) => setTimeout(res, Math.min(wait, SIM_PAYMENT_WINDOW_MS + 2)));
    if (paying.length > 0) count(r, 'clock-past-deadline');
    const report = await r.world.recovery.recoverOnce();
    count(r, 'recovery', `${report.completed}c${report.aborted}a${report.failed}f`);
    if (report.failed > 0) fail(`the recovery failed ${report.failed} orders`);
    const left = (await sale(r, m)).orders.filter((o) => o.status === 'paying');
    if (left.length > 0) fail(`the recovery left ${left.map((o) => o.id).join(' ')} paying`);
  },
);

const pause = command(
  fc.constant(null),
  () => 'pause',
  () => async (m, r) => {
    const out = await r.world.inventory.setPaused(m.drop.id, true);
    count(r, 'pause', out.ok ? 'ok' : out.code);
  },
);

const resume = command(
  fc.constant(null),
  () => 'resume',
  () => async (m, r) => {
    // What the API does on a resume: unpause, then hand down what the pause parked.
    const out = await r.world.inventory.setPaused(m.drop.id, false);
    if (out.ok) await r.world.inventory.handDownParked(m.drop.id);
    count(r, 'resume', out.ok ? 'ok' : out.code);
  },
);

const lifecycle = command(
  fc.constant(null),
  () => 'lifecycle pass',
  () => async (m, r) => {
    await r.world.lifecycle.syncOnce();
    count(r, 'lifecycle');
  },
);

const draw = command(
  fc.constant(null),
  () => 'draw pass',
  () => async (m, r) => {
    const stage = await r.world.draw.advance(m.drop.id);
    count(r, 'draw', stage);
  },
);

const clock = command(
  // Mostly towards the sale: a sale that ends early leaves the rest of the seed refusals.
  fc.constantFrom(
    'reservations close',
    'sale starts',
    'sale starts',
    'sale starts',
    'sale starts',
    'sale ends',
  ),
  (what) => `clock: ${what}`,
  (what) => async (m, r) => {
    const now = (await r.world.now()) - 1;
    const d = (await sale(r, m)).definition;
    count(r, 'clock-past-deadline');
    // A drop without a reservation window keeps none (a window is both ends or neither).
    const closes =
      d.reservationClosesAt === undefined
        ? {}
        : { reservationClosesAt: Math.min(d.reservationClosesAt, now) };
    if (what === 'reservations close') {
      await setDropTimes(r.world.redis, m.drop.id, closes);
    } else if (what === 'sale starts') {
      await setDropTimes(r.world.redis, m.drop.id, {
        ...closes,
        saleStartsAt: Math.min(d.saleStartsAt, now),
      });
    } else {
      await setDropTimes(r.world.redis, m.drop.id, {
        ...closes,
        saleStartsAt: Math.min(d.saleStartsAt, now - 1),
        saleEndsAt: now,
      });
    }
  },
);

const relayResend = command(
  fc.constant(null),
  () => 'order persistence re-reads the whole outbox (a relay re-sending)',
  () => async (m, r) => {
    // The consumer group's cursor back to the start: every entry is delivered again, as after a
    // crash between the rows' commit and the acknowledgement.
    const events = dropKeys(m.drop.id).events;
    await r.world.redis
      .xgroup('SETID', events, OutboxStreamGroups.orderPersistence, '0')
      .catch(() => undefined);
    count(r, 'relay-resend');
  },
);

// ---- races -----------------------------------------------------------------------------------

const race = command(
  fc.record({
    order: orderIndex,
    with: fc.constantFrom('pay+cancel', 'pay+sweeper', 'cancel+sweeper', 'pay+recovery'),
    pastDeadline: fc.boolean(),
  }),
  (a) =>
    `race(order #${a.order}: ${a.with}${a.pastDeadline && a.with.includes('sweeper') ? ', the hold past its deadline' : ''})`,
  (a) => async (m, r) => {
    const id = m.pickOrder(a.order);
    if (!id) return;
    const o = await r.world.inventory.getOrder(id);
    if (!o) fail(`order ${id} is gone`);
    // The sweeper against a touch of the same hold, both at once, once its deadline has passed:
    // two paths expire it, and its units must come back once (invariant 1, checked after).
    const contended = a.pastDeadline && a.with.includes('sweeper') && o.status === 'held';
    if (contended) {
      count(r, 'clock-past-deadline');
      await moveHoldDeadline(r.world.redis, id, (await r.world.now()) - 1);
    }
    const payIt = async () => count(r, 'pay', await payOnce(m, r, id, o.fanId));
    const cancelIt = async () => {
      const out = await r.world.inventory.cancelOrder(id, o.fanId);
      count(r, 'cancel', out.ok ? 'ok' : out.code);
    };
    const sweepIt = () => sweepNow(r);
    const recoverIt = async () => {
      const report = await r.world.recovery.recoverOnce();
      count(r, 'recovery', `${report.completed}c${report.aborted}a${report.failed}f`);
    };
    const [x, y] = a.with.split('+');
    const run = (what: string) =>
      what === 'pay'
        ? payIt()
        : what === 'cancel'
          ? cancelIt()
          : what === 'sweeper'
            ? sweepIt()
            : recoverIt();
    await Promise.all([run(x), run(y)]);
    takeDebits(m, r);
    const after = (await r.world.inventory.getOrder(id))?.status;
    if (contended && after !== 'expired') fail(`a hold past its deadline, raced, is ${after}`);
  },
);

/**
 * Every command, weighted by how often a sale of this kind meets it: a draw drop's fans
 * reserve and wait for the clock and the draw (a grab there is only ever refused); a first-come
 * drop is grabbed, sold out and queued for. The weights are also the coverage's knobs: a
 * thousand seeds (about 75 steps each) must drive every transition a thousand times and every
 * fault a hundred (`npm run simulate -- --min-coverage 1000` checks it). What a weight buys is
 * counted only where the sale lets it happen: a repeated payment needs an order, an expiry (by
 * the clock or the sweeper) a live hold, a backfill a release with fans in the line; those weigh
 * more than their share of the steps. A pause is resumed at two and a half times its rate, so
 * a drop is paused under a third of its steps: most grabs must meet an open sale.
 */
export function commandArbitrary(
  allocation: Allocation,
): fc.Arbitrary<fc.AsyncCommand<SaleModel, Real>> {
  const drawn = allocation === 'draw';
  const weighted: [number, fc.Arbitrary<SimCommand>][] = [
    [drawn ? 6 : 4, reserve],
    [2, share],
    [drawn ? 1 : 8, grab],
    [drawn ? 0 : 4, purchase],
    [drawn ? 0 : 3, rush],
    [drawn ? 1 : 4, joinWaitlist],
    [5, cancel],
    [5, credit],
    [10, pay],
    [8, expireByClock],
    [8, agePastDeadline],
    [1, sweep],
    [2, recover],
    [2, pause],
    [5, resume],
    [2, lifecycle],
    [drawn ? 4 : 1, draw],
    [drawn ? 3 : 1, clock],
    [1, relayResend],
    [3, race],
    [10, refund],
    [1, recoverRefunds],
  ];
  return fc.oneof(
    ...weighted.filter(([w]) => w > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })),
  );
}
