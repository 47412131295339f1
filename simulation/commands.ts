import { DomainError } from '@flashdrop/contracts';
import { Allocation, allocationKindOf, OutboxStreamGroups, StoredSale } from '@flashdrop/inventory';
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
    const fanId = m.fan(a.fan);
    const referrer = a.referrer === undefined ? undefined : m.fan(a.referrer);
    const out = await r.world.inventory.reserve(
      m.drop.id,
      fanId,
      referrer === fanId ? undefined : referrer,
    );
    count(r, 'reserve', out.ok ? (out.value.created ? 'created' : 'again') : out.code);
    if (out.ok) {
      if (out.value.created === m.reserved.has(fanId)) {
        fail(`reserve(${fanId}): created=${out.value.created}, the model says reserved before`);
      }
      m.reserved.add(fanId);
    }
  },
);

const share = command(
  fc.record({ fan: fanIndex, channel: fc.constantFrom('wechat', 'weibo', 'link') }),
  (a) => `share(fan ${a.fan}, ${a.channel})`,
  (a) => async (m, r) => {
    const out = await r.world.inventory.share(m.drop.id, m.fan(a.fan), a.channel);
    count(r, 'share', out.ok ? 'ok' : out.code);
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
    const fanId = m.fan(a.fan);
    const before = await sale(r, m);
    const view = await r.world.inventory.viewDrop(m.drop.id);
    const key = a.keyed || a.lostReply ? `g-${m.steps}` : undefined;
    const req = { dropId: m.drop.id, fanId, quantity: a.quantity, idempotencyKey: key };
    let out = await r.world.inventory.grab(req);
    if (a.lostReply) {
      // The answer never reached the fan: the retry with the same key must answer the same.
      count(r, 'lost-reply-retry');
      const again = await r.world.inventory.grab(req);
      if (again.ok !== out.ok) fail(`grab retry answered ok=${again.ok}, first ok=${out.ok}`);
      if (again.ok && out.ok && (again.order.id !== out.order.id || !again.replayed)) {
        fail(
          `grab retry gave ${again.order.id} (replayed ${again.replayed}), first ${out.order.id}`,
        );
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
    const eligible = !d.reservationRequired || m.reserved.has(fanId);
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
    } else {
      if (expectOk)
        fail(`grab(${fanId} x${a.quantity}) refused ${out.code}, the model expected it`);
      if (after.stock !== before.stock || after.orders.length !== before.orders.length) {
        fail(`grab refused ${out.code} but wrote: stock ${before.stock} -> ${after.stock}`);
      }
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
      const out = await r.world.inventory.grab({ dropId: m.drop.id, fanId, quantity: 1 });
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
      const joined = await r.world.inventory.joinWaitlist(m.drop.id, fanId);
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
    const out = await r.world.inventory.joinWaitlist(m.drop.id, fanId);
    count(r, 'waitlist-join', out.ok ? (out.value.created ? 'created' : 'again') : out.code);
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
    [drawn ? 0 : 3, rush],
    [drawn ? 1 : 4, joinWaitlist],
    [5, cancel],
    [5, credit],
    [10, pay],
    [8, expireByClock],
    [7, agePastDeadline],
    [1, sweep],
    [2, recover],
    [2, pause],
    [5, resume],
    [2, lifecycle],
    [drawn ? 4 : 1, draw],
    [drawn ? 3 : 1, clock],
    [1, relayResend],
    [3, race],
  ];
  return fc.oneof(
    ...weighted.filter(([w]) => w > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })),
  );
}
