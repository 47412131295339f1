import { DomainError, Order, OrderStatus, Principal } from '@flashdrop/contracts';
import {
  Allocation,
  allocationKindOf,
  GrabOutcome,
  InventoryGroup,
  InventoryOrder,
  OutboxStreamGroups,
  StoredSale,
} from '@flashdrop/inventory';
import {
  dropKeys,
  moveGroupDeadline,
  moveGroupDue,
  moveHoldDeadline,
  setDropTimes,
} from '@flashdrop/testing';
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
    const groupsWere = new Map([...m.groups].map(([id, g]) => [id, g.status]));
    const sale = await (async () => {
      // What the wallet answered in the step and the step itself did not take (a group's
      // failure refunding its members in a sweeper pass, say) goes into the model now.
      takeReplies(m, r);
      return checkStep(r.world, m);
    })().catch((e: Error) => {
      throw new InvariantBroken(`after step ${n} (${this.label}): ${e.message}`);
    });
    countGroupEnds(r, m, groupsWere, sale, this.label);
    for (const o of sale.orders) {
      // A hold the sale made in this step (a grab, a draw, a backfill) costs what the model says
      // (the share discount when its fan shared before) and owes the reward the model says (its
      // fan's referrer, from the reservation, when the drop pays one).
      if (!was.has(o.id)) checkNewHold(m, o, n, this.label);
      // A hold that expired in this step: by the sweeper (it returned units in this step), or
      // by the clock at its next touch. The expiries are the transitions counted; a sweeper pass
      // that found nothing is only an outcome (`expire-sweeper:pass`).
      if (o.status === 'expired' && (was.get(o.id) === 'held' || was.get(o.id) === 'paying')) {
        // A member's hold its group's failure expired is the group's transition.
        const g = o.groupId === undefined ? undefined : m.groups.get(o.groupId);
        const byGroup = g !== undefined && ['failing', 'failed'].includes(g.status);
        if (byGroup && groupsWere.get(g.id) === 'open') r.coverage.add('group-fail:hold-expired');
        else r.coverage.add(r.sweptUnits > 0 ? 'expire-sweeper' : 'expire-clock');
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

/**
 * Group buy's transitions as they happened in a step, whoever made them (a grab or a backfill
 * started a group; the filling payment, a member's later call or the group sweeper completed
 * one; the sweeper failed one): each counted once, its outcome the step's kind.
 */
function countGroupEnds(
  r: Real,
  m: SaleModel,
  were: ReadonlyMap<string, InventoryGroup['status']>,
  sale: StoredSale,
  label: string,
): void {
  // The step's first word: pay, purchase, race, clock (the group's deadline), group (a
  // sweeper pass, a join), refund, ...
  const by = /^\w+/.exec(label)?.[0] ?? 'step';
  for (const [id, g] of m.groups) {
    const was = were.get(id);
    if (was === undefined) {
      const first = sale.orders.find((o) => o.groupId === id);
      count(r, 'group-start', first ? allocationKindOf(first.id) : 'unknown');
    }
    if (g.status === 'complete' && was !== 'complete') count(r, 'group-complete', by);
    if (g.status === 'failed' && was !== 'failed') count(r, 'group-fail', by);
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
  /** Group buy: the group to join (none: a grab on a group-buy drop starts one). */
  readonly groupId?: string;
}

/**
 * What a join of `groupId` must be refused for, by the group alone (grab.lua's group checks,
 * after the sale's): unknown, no longer open or past its deadline, the fan seated in it
 * already, or its seats taken (the members now live, or the bound on everyone who ever joined).
 * Undefined: the group takes it.
 */
async function groupRefusal(
  r: Real,
  m: SaleModel,
  groupId: string,
  fanId: string,
  before: StoredSale,
): Promise<string | undefined> {
  const g = await r.world.inventory.group(m.drop.id, groupId);
  if (!g) return 'NOT_FOUND';
  if (g.status !== 'open' || (await r.world.now()) >= g.expiresAt) return 'GROUP_CLOSED';
  // One seat per fan per group: an order of the fan in it that is neither expired nor
  // cancelled (those free the seat) still holds one.
  const seated = before.orders.some(
    (o) =>
      o.fanId === fanId && o.groupId === groupId && !['expired', 'cancelled'].includes(o.status),
  );
  if (seated) return 'ALREADY_IN_GROUP';
  const everJoined = (await r.world.inventory.groupMembers(m.drop.id, groupId)).length;
  if (g.members >= g.size || everJoined >= g.size + GROUP_MEMBER_BOUND_EXTRA) return 'GROUP_FULL';
  return undefined;
}

/** grab.lua's bound on a group's member set beyond its size (_lib.lua GROUP_MEMBER_BOUND_EXTRA). */
const GROUP_MEMBER_BOUND_EXTRA = 20;

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
    ...(a.groupId === undefined ? {} : { groupId: a.groupId }),
  };
  const joining =
    a.groupId === undefined ? undefined : await r.world.inventory.group(m.drop.id, a.groupId);
  const groupCode =
    a.groupId === undefined ? undefined : await groupRefusal(r, m, a.groupId, fanId, before);
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
  // Group buy: a member holds one unit, and only a group-buy drop takes a groupId (else 400).
  const bodyOk = m.grouped ? a.quantity === 1 : a.groupId === undefined;
  if (m.admits(fanId) && d.allocation === 'first_come' && !bodyOk) {
    if (out.ok || out.code !== 'VALIDATION_FAILED') {
      fail(`grab x${a.quantity} (group ${a.groupId ?? '-'}) answered ${out.ok ? 'ok' : out.code}`);
    }
  }
  // The group's own refusals come after every check of the sale's, before the stock's.
  const saleAllows = open && eligible && canHave && bodyOk;
  if (saleAllows && groupCode !== undefined && (out.ok || out.code !== groupCode)) {
    fail(`a join of group ${a.groupId} answered ${out.ok ? 'ok' : out.code}, not ${groupCode}`);
  }
  const expectOk = saleAllows && groupCode === undefined && before.stock >= a.quantity;
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
    if (m.grouped) await checkMember(r, m, out.order, joining);
  } else {
    if (!m.admits(fanId) && out.code !== 'MEMBERS_ONLY') {
      fail(`grab(${fanId}) without the tier refused ${out.code}, not MEMBERS_ONLY`);
    }
    if (expectOk) fail(`grab(${fanId} x${a.quantity}) refused ${out.code}, the model expected it`);
    if (after.stock !== before.stock || after.orders.length !== before.orders.length) {
      fail(`grab refused ${out.code} but wrote: stock ${before.stock} -> ${after.stock}`);
    }
    const still =
      a.groupId === undefined ? undefined : await r.world.inventory.group(m.drop.id, a.groupId);
    if (JSON.stringify(still) !== JSON.stringify(joining)) {
      fail(`a join refused ${out.code} changed group ${a.groupId}`);
    }
  }
  return out;
}

/**
 * A hold a grab made on a group-buy drop: a member of the group it joined (one seat more), or
 * of a new open group of the drop's size with `groupSeconds` to complete; its hold ends no later
 * than its group.
 */
async function checkMember(
  r: Real,
  m: SaleModel,
  order: InventoryOrder,
  joined: InventoryGroup | undefined,
): Promise<void> {
  const gid = order.groupId ?? fail(`the hold ${order.id} of a group-buy drop has no group`);
  const g = (await r.world.inventory.group(m.drop.id, gid)) ?? fail(`group ${gid} is missing`);
  if (joined) {
    if (gid !== joined.id) fail(`a join of group ${joined.id} made a member of ${gid}`);
    if (g.members !== joined.members + 1) {
      fail(`a join of group ${gid}: members ${joined.members} -> ${g.members}`);
    }
  } else {
    const seconds = (m.drop.groupSeconds ?? 3600) * 1000;
    if (m.groups.has(gid) || g.status !== 'open' || g.members !== 1 || g.paidMembers !== 0) {
      fail(`a grab started group ${gid}: ${JSON.stringify(g)}`);
    }
    if (g.size !== m.drop.groupSize || g.expiresAt !== g.startedAt + seconds) {
      fail(`a new group ${gid}: size ${g.size}, ${g.expiresAt - g.startedAt} ms to complete`);
    }
  }
  if (order.expiresAt > g.expiresAt) {
    fail(`member ${order.id}'s hold ends at ${order.expiresAt}, after its group (${g.expiresAt})`);
  }
}

/**
 * What most fans do: grab one unit and pay for it at once, topping their wallet up first when
 * it holds too little (a credit, as the operator's top-up). The sale's paid orders are what
 * refunds and referral rewards act on; without this step most holds expire before a payment.
 * On a group-buy drop three purchases in four join an open group the fan has no seat in (the
 * fullest first: a group fills and completes), as a fan does who came through a group's link;
 * the rest, or with no such group, start one.
 */
const purchaseOf = (grouped: boolean) =>
  command(
    fc.record({
      fan: fanIndex,
      via: fc.option(fanIndex, { nil: undefined }),
      topUp: fc.constantFrom(true, true, true, false),
      join: fc.constantFrom(grouped, grouped, grouped, false),
    }),
    (a) =>
      `purchase(fan ${a.fan}: ${a.via === undefined ? '' : `reserve via ${a.via}, `}grab x1` +
      `${a.join ? ' in an open group' : ''}, ${a.topUp ? 'top up if short, ' : ''}pay)`,
    (a) => async (m, r) => {
      // A fan who came through a friend's link reserves with them as the referrer first (where
      // the drop still takes reservations): the order it then buys owes that friend a reward.
      if (a.via !== undefined) await reserveChecked(m, r, a.fan, a.via);
      const group = a.join ? (await openGroups(r, m, m.fan(a.fan)))[0] : undefined;
      const out = await grabChecked(m, r, {
        fan: a.fan,
        quantity: 1,
        keyed: false,
        lostReply: false,
        ...(group ? { groupId: group.id } : {}),
      });
      if (group) count(r, 'group-join', out.ok ? 'ok' : out.code);
      if (!out.ok) return;
      await payAtOnce(m, r, out.order, a.topUp);
    },
  );

/**
 * The drop's open groups (its deadline not about to pass), the fullest first (most paid
 * members, then most members): with `fanId`, those the fan could join now (a seat free, the fan
 * not seated in it), the group a fan joining to complete it picks.
 */
async function openGroups(r: Real, m: SaleModel, fanId?: string): Promise<InventoryGroup[]> {
  if (!m.grouped) return [];
  const s = await sale(r, m);
  const now = await r.world.now();
  const ids = [...new Set(s.orders.flatMap((o) => (o.groupId === undefined ? [] : [o.groupId])))];
  const open: InventoryGroup[] = [];
  for (const id of ids) {
    const g = await r.world.inventory.group(m.drop.id, id);
    if (g?.status !== 'open' || now + 1_000 >= g.expiresAt) continue;
    if (fanId !== undefined && (g.members >= g.size || seatedIn(s, fanId, id))) continue;
    open.push(g);
  }
  return open.sort((a, b) => b.paidMembers - a.paidMembers || b.members - a.members);
}

/** Whether the fan holds a seat in the group (an order in it neither expired nor cancelled). */
function seatedIn(s: StoredSale, fanId: string, groupId: string): boolean {
  return s.orders.some(
    (o) =>
      o.fanId === fanId && o.groupId === groupId && !['expired', 'cancelled'].includes(o.status),
  );
}

/**
 * A held member whose payment would fill its group (completion's transition, its race with the
 * group's failure, the completer's crash act on it), by a drawn index: one held now, or else one
 * made so: the fullest open group (a new one when there is none) gets its seats taken by fans
 * who may (from the index), then its held members pay, all but one, which is the member. None
 * (the sale refuses the grabs, a payment fails): undefined. The member's wallet is topped up to
 * its price, so its payment reaches the group (a payment declined for want of money completes
 * nothing).
 */
async function fillingMember(
  m: SaleModel,
  r: Real,
  i: number,
): Promise<InventoryOrder | undefined> {
  const member = m.pickFilling(i) ?? (await makeFilling(m, r, i));
  if (member) await topUp(m, r, member);
  return member;
}

async function makeFilling(m: SaleModel, r: Real, i: number): Promise<InventoryOrder | undefined> {
  // Grabs for the group, by the fans who may make one (admitted, reserved where the drop needs
  // it, under the per-fan limit, not seated in the group), until the sale refuses for all.
  const join = async (groupId?: string): Promise<InventoryOrder | undefined> => {
    for (let k = 0; k < m.fans.length; k++) {
      const fanId = m.fan(i + k);
      const s = await sale(r, m);
      const may =
        m.admits(fanId) &&
        (!m.drop.reservationRequired || m.reserved.has(fanId)) &&
        (s.unitsPerFan.get(fanId) ?? 0) < m.drop.perUserLimit &&
        (groupId === undefined || !seatedIn(s, fanId, groupId));
      if (!may) continue;
      const out = await grabChecked(m, r, {
        fan: i + k,
        quantity: 1,
        keyed: false,
        lostReply: false,
        ...(groupId === undefined ? {} : { groupId }),
      });
      if (groupId !== undefined) count(r, 'group-join', out.ok ? 'ok' : out.code);
      if (out.ok) return out.order;
      if (['SOLD_OUT', 'SALE_PAUSED', 'SALE_ENDED', 'SALE_NOT_STARTED'].includes(out.code)) return;
    }
    return undefined;
  };
  const group = async (id: string) =>
    (await r.world.inventory.group(m.drop.id, id)) ?? fail(`group ${id} is gone`);

  let g = (await openGroups(r, m))[0];
  if (!g) {
    const started = await join();
    if (started?.groupId === undefined) return undefined;
    g = await group(started.groupId);
  }
  while (g.members < g.size) {
    if (!(await join(g.id))) return undefined;
    g = await group(g.id);
  }
  const held = (await sale(r, m)).orders.filter((o) => o.groupId === g.id && o.status === 'held');
  if (g.paidMembers + held.length !== g.size || held.length === 0) return undefined;
  for (const o of held.slice(1)) {
    if ((await payAtOnce(m, r, o, true)) !== 'grouped') return undefined;
  }
  return held[0];
}

/** A top-up of the fan's wallet to the order's amount when it holds less (the operator's credit). */
async function topUp(m: SaleModel, r: Real, order: InventoryOrder): Promise<void> {
  const fanId = order.fanId;
  if (m.balanceOf(fanId) >= order.amountMinor) return;
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

/**
 * A fan pays for the hold it was just answered, topping its wallet up first when it holds too
 * little (and `shortTopUp`); answers the payment's outcome. On a group-buy drop a payment that fills
 * the member's group is checked for the group's completion (checkCompletion).
 */
async function payAtOnce(
  m: SaleModel,
  r: Real,
  order: InventoryOrder,
  shortTopUp: boolean,
): Promise<string> {
  const fanId = order.fanId;
  const filling = await fillingGroup(r, m, order);
  if (shortTopUp) await topUp(m, r, order);
  const outcome = await payOnce(m, r, order.id, fanId);
  count(r, 'pay', outcome);
  takeDebits(m, r);
  takeReleases(m, r);
  if (outcome === 'INSUFFICIENT_FUNDS' && m.balanceOf(fanId) >= order.amountMinor) {
    fail(`INSUFFICIENT_FUNDS for ${fanId}, who holds ${m.balanceOf(fanId)}`);
  }
  if (filling) await checkCompletion(r, m, filling, order.id, outcome);
  return outcome;
}

/**
 * The rush in one step: the fans, in a drawn order, each grab one unit until the drop is sold
 * out, then the rest queue (each grab and join checked as the single steps check theirs). What a
 * first-come drop meets in its first second, and what makes the later releases pass down the
 * line. On a group-buy drop each fan joins the fullest open group it may (else starts one).
 */
const rush = command(
  fanIndex,
  (start) => `rush (fans from ${start}: grab one each, then queue)`,
  (start) => async (m, r) => {
    for (let i = 0; i < m.fans.length; i++) {
      const fanId = m.fan(start + i);
      const [group] = await openGroups(r, m, fanId);
      const before = await sale(r, m);
      const out = await r.world.inventory.grab({
        dropId: m.drop.id,
        fanId,
        quantity: 1,
        tier: m.tierOf(fanId),
        ...(group ? { groupId: group.id } : {}),
      });
      count(r, 'grab', out.ok ? 'ok' : out.code);
      if (group) count(r, 'group-join', out.ok ? 'ok' : out.code);
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
  | 'kill-after-debit'
  | 'kill-before-release'
  | 'kill-after-release';

/**
 * One client's call of the API's pay or refund, as the API would answer it: the order's status
 * when it is one of `acks`' (the order joins that status's acknowledged answers), a code for a
 * refusal, or the fault the call met (`killed`, `lost`). Any other status answered breaks the
 * contract.
 */
async function answerOf(
  call: () => Promise<Order>,
  acks: Partial<Record<OrderStatus, Set<string>>>,
): Promise<string> {
  try {
    const o = await call();
    const ack = acks[o.status] ?? fail(`answered ${o.status}`);
    ack.add(o.id);
    return o.status;
  } catch (e) {
    if (e instanceof PayerKilled) return 'killed';
    if (e instanceof ReplyLost) return 'lost';
    return codeOf(e);
  }
}

/**
 * One client's pay of an order: 'paid', 'grouped' (a group member's money in escrow, its group
 * not yet full), or a code.
 */
function payOnce(m: SaleModel, r: Real, orderId: string, fanId: string, key?: string) {
  return answerOf(() => r.world.payments.pay(orderId, fanId, key), {
    paid: m.paidAck,
    grouped: m.groupedAck,
  });
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
      const escrow = request.escrow === true;
      if (escrow !== m.grouped) fail(`debit of ${request.orderId}: escrow ${escrow} on this drop`);
      m.debited.set(request.orderId, {
        fanId: request.fanId,
        amount: request.amountMinor,
        escrow,
      });
      // A group member's reward waits for its group's completion (paid with the release).
      if (escrow && request.referrerId !== undefined) {
        fail(`the escrow debit of ${request.orderId} pays a referral reward`);
      }
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

/**
 * The escrow releases the wallet answered during a step (a group's completion, by its filling
 * payer, a member's later payment call or the group sweeper), into the model: the first release
 * of a member moves its payment from escrow to the brand's revenue, once, and pays its referral
 * reward (invariant 9); a later one answers `already` and moves nothing; a refunded member's
 * escrow is never released.
 */
function takeReleases(m: SaleModel, r: Real): void {
  // Two releases of one member at once (two payment calls completing the same group) reach the
  // injector in either order: the one that moved the money is taken first (as takeRefunds).
  const rank = (outcome: string) => (outcome === 'released' ? 0 : 1);
  const replies = r.world.faults
    .takeReleases()
    .sort((a, b) => rank(a.reply.outcome) - rank(b.reply.outcome));
  for (const { request, reply } of replies) {
    const id = request.orderId;
    if (reply.outcome === 'not_paid') fail(`release of ${id}, which the wallet never debited`);
    const payment = m.debited.get(id) ?? fail(`release of ${id}, which the model never saw paid`);
    if (!payment.escrow) fail(`release of ${id}, whose payment went to revenue, not escrow`);
    if (reply.outcome === 'already') {
      if (!m.released.has(id)) fail(`release of ${id} answered already, but none moved money`);
      continue;
    }
    if (m.released.has(id)) fail(`order ${id} released from escrow twice`);
    if (m.refunded.has(id)) fail(`order ${id} released from escrow after its refund`);
    m.released.add(id);
    if (request.referrerId !== undefined && (request.rewardMinor ?? 0) > 0) {
      if (request.referrerId === payment.fanId)
        fail(`${payment.fanId} rewarded for their own order`);
      m.rewards.set(id, { referrerId: request.referrerId, amount: request.rewardMinor ?? 0 });
      count(r, 'referral-reward', 'with-the-release');
    }
  }
}

/** Every wallet answer of a step not yet taken into the model (debits, releases, refunds). */
export function takeReplies(m: SaleModel, r: Real): void {
  takeDebits(m, r);
  takeReleases(m, r);
  takeRefunds(m, r);
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
  (a) => payStep(a),
);

/**
 * Group buy: the completer killed after complete_payment fenced the group (before the wallet's
 * first release), or after a release committed (before finish_group): a payment step of its
 * own weight on group-buy drops, aimed at a filling member (made one when none is held).
 */
const completerKilled = command(
  fc.record({
    order: orderIndex,
    mode: fc.constantFrom<PayMode>('kill-before-release', 'kill-after-release'),
    keyed: fc.boolean(),
  }),
  (a) => `pay(order #${a.order}, ${a.mode}${a.keyed ? ', keyed' : ''})`,
  (a) => payStep(a),
);

function payStep(a: { order: number; mode: PayMode; keyed: boolean }): Step {
  return async (m, r) => {
    // On a group-buy drop a quarter of the picks aim at the payment that fills a group, where
    // completion happens; every completer's crash does, a member joining to be it if need be.
    // Another quarter aim at a hold that owes a referral reward (paid with the payment, or the
    // group's release; reversed by a later refund).
    const aimed = a.mode.endsWith('-release')
      ? await fillingMember(m, r, a.order)
      : a.order % 4 === 0
        ? m.pickFilling(a.order)
        : a.order % 4 === 2
          ? m.pickOwing(a.order)
          : undefined;
    const id = aimed?.id ?? m.pickOrder(a.order);
    if (!id) return;
    const order = await r.world.inventory.getOrder(id);
    if (!order) fail(`order ${id} is gone`);
    const filling = await fillingGroup(r, m, order);
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
      case 'kill-before-release':
      case 'kill-after-release':
        r.world.faults.armRelease(
          a.mode === 'kill-before-release' ? 'crash-before' : 'crash-after',
        );
        outcome = await once();
        // Only a payment that completed a group reaches the release hop.
        if (!r.world.faults.releaseArmed()) count(r, a.mode, outcome);
        count(r, 'pay', outcome);
        break;
    }
    r.world.faults.clear();
    takeDebits(m, r);
    takeReleases(m, r);
    if (outcome === 'INSUFFICIENT_FUNDS' && m.balanceOf(order.fanId) >= order.amountMinor) {
      fail(`INSUFFICIENT_FUNDS for ${order.fanId}, who holds ${m.balanceOf(order.fanId)}`);
    }
    if (filling) await checkCompletion(r, m, filling, id, outcome);
  };
}

/**
 * The group a payment of `order` would fill (open, before its deadline, one paid member short,
 * the order held): completion by the last payment is checked after it.
 */
async function fillingGroup(
  r: Real,
  m: SaleModel,
  order: InventoryOrder,
): Promise<InventoryGroup | undefined> {
  if (order.groupId === undefined || order.status !== 'held') return undefined;
  const g = await r.world.inventory.group(m.drop.id, order.groupId);
  const now = await r.world.now();
  // A deadline this close may pass between this read and the payment's completion.
  const open = g?.status === 'open' && now + 1_000 < g.expiresAt && order.expiresAt > now + 1_000;
  return open && g.paidMembers === g.size - 1 ? g : undefined;
}

/**
 * After a payment step on the member that could fill `group` (docs/api.md "Campaigns"): when
 * its money was taken (the order left `held` for `grouped`/`paid`), the group is complete and
 * every member paid at once, and the payment answered `paid`; a completer killed at the release
 * hop leaves the group `completing` (the fence passed: it can no longer fail), its members
 * grouped, for the group sweeper or a member's next call to finish. A payer killed before
 * complete_payment leaves the group open (the payment recovery completes the member).
 */
async function checkCompletion(
  r: Real,
  m: SaleModel,
  group: InventoryGroup,
  orderId: string,
  outcome: string,
): Promise<void> {
  const order = (await r.world.inventory.getOrder(orderId)) ?? fail(`order ${orderId} is gone`);
  const g =
    (await r.world.inventory.group(m.drop.id, group.id)) ?? fail(`group ${group.id} is gone`);
  const members = await Promise.all(
    (await r.world.inventory.groupMembers(m.drop.id, group.id)).map((id) =>
      r.world.inventory.getOrder(id),
    ),
  );
  const live = members.filter((o) => o && ['held', 'paying', 'grouped', 'paid'].includes(o.status));
  if (order.status !== 'grouped' && order.status !== 'paid') {
    if (g.status !== 'open') fail(`group ${g.id} is ${g.status}, its last payment ${outcome}`);
    return;
  }
  if (outcome === 'killed') {
    if (g.status !== 'completing' || live.some((o) => o?.status !== 'grouped')) {
      fail(`a completer killed at the release hop left group ${g.id} ${g.status}`);
    }
    return;
  }
  if (g.status !== 'complete' || live.some((o) => o?.status !== 'paid') || outcome !== 'paid') {
    fail(
      `the payment filling group ${g.id} answered ${outcome}; the group is ${g.status}, its ` +
        `members ${live.map((o) => o?.status).join(' ')}`,
    );
  }
}

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

/** One refunder's call: 'refunded', a code, or the fault met. */
function refundOnce(m: SaleModel, r: Real, orderId: string, caller: Principal) {
  return answerOf(() => r.world.refunds.refund(caller, orderId, 'simulated refund'), {
    refunded: m.refundedAck,
  });
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
    // A member's payment still in escrow is refunded by its group's failure (the group sweeper
    // asked it, not a refunder): from here the order may leave `grouped` for `refunded`.
    if (payment.escrow && !m.released.has(id)) m.refundBegun.add(id);
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
    if (id) await refundChecked(m, r, id, a.mode, a.operator);
  },
);

/**
 * A referred fan's purchase, then its refund (invariant 9 both ways): a hold that owes a
 * referral reward is paid (the payment pays the reward), then refunded (the refund takes the
 * reward back). The hold is one held now, or one a referred fan grabs (a fan not yet reserved
 * reserves through a friend's link first; a fan who reserved without one leaves it to a fan who
 * did). A refund frees the fan's units, so the same referred fan can buy and be refunded again:
 * what a drop with few units and few fans needs to pay and reverse rewards by the thousand.
 */
const referredRefund = command(
  fc.record({
    fan: fanIndex,
    via: fanIndex,
    mode: fc.constantFrom<RefundMode>(
      'once',
      'repeated',
      'repeated',
      'concurrent',
      'concurrent',
      'pay-retry',
      'pay-retry',
      'lost-reply',
      'recovery',
    ),
    operator: fc.boolean(),
  }),
  (a) =>
    `purchase(a referred fan from ${a.fan}, via ${a.via}), then refund(${a.mode}` +
    `${a.operator ? ', by an operator' : ''})`,
  (a) => async (m, r) => {
    const order = m.pickOwing(a.fan) ?? (await referredHold(m, r, a.fan, a.via));
    if (!order) return;
    if ((await payAtOnce(m, r, order, true)) !== 'paid') return;
    await refundChecked(m, r, order.id, a.mode, a.operator);
  },
);

/** A hold grabbed by a referred fan (see referredRefund), or undefined when the sale refuses. */
async function referredHold(
  m: SaleModel,
  r: Real,
  fan: number,
  via: number,
): Promise<InventoryOrder | undefined> {
  const fanId = m.fan(fan);
  if (!m.reserved.has(fanId)) {
    await reserveChecked(m, r, fan, m.fan(via) === fanId ? via + 1 : via);
  }
  const referred = [...m.referrers.keys()];
  const buyer = m.referrers.has(fanId) ? fanId : referred[fan % Math.max(1, referred.length)];
  if (buyer === undefined) return undefined;
  const out = await grabChecked(m, r, {
    fan: m.fans.indexOf(buyer),
    quantity: 1,
    keyed: false,
    lostReply: false,
  });
  return out.ok ? out.order : undefined;
}

/**
 * A refund of the order by the brand (an operator, another brand) in the given mode, checked
 * against the state before it: what it answers, what it moves, where the units go.
 */
async function refundChecked(
  m: SaleModel,
  r: Real,
  id: string,
  mode: RefundMode,
  operator: boolean,
): Promise<void> {
  const before = await sale(r, m);
  const freeBefore = await freeUnits(r, m);
  const order = (await r.world.inventory.getOrder(id)) ?? fail(`order ${id} is gone`);
  const caller = mode === 'other-brand' ? OTHER_BRAND : operator ? OPERATOR : BRAND;
  // The one refund the wallet declines: the brand's whole revenue cannot pay it (a referrer
  // spent the order's reward); the order goes back to `paid`, 402 (PAYMENTS.md "A refund the
  // brand cannot pay").
  const funded = m.refundFunded(id);
  const once = () => refundOnce(m, r, id, caller);
  // Once begun a refund goes forward or is declined: the model lets the order leave `paid`.
  m.refundBegun.add(id);
  let outcome: string;
  switch (mode) {
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
      r.world.faults.armRefund(mode === 'kill-before-refund' ? 'crash-before' : 'crash-after');
      outcome = await once();
      count(r, mode, outcome);
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
      const [refunded, report] = await Promise.all([once(), r.world.refundRecovery.recoverOnce(0)]);
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
  if (mode === 'other-brand') {
    if (outcome !== 'NOT_FOUND') fail(`another brand's refund answered ${outcome}`);
  } else if (!refundable) {
    if (outcome !== 'ORDER_NOT_PAID' && !(mode === 'pay-retry' && outcome === 'refunded')) {
      fail(`refund of a ${order.status} order answered ${outcome}`);
    }
  } else if (mode.startsWith('kill')) {
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
    !mode.startsWith('kill') &&
    mode !== 'pay-retry' &&
    order.status !== 'refunding'
  ) {
    if (JSON.stringify(after) !== JSON.stringify(order)) {
      fail(`a refused refund (${outcome}) changed ${id}: ${order.status} -> ${after.status}`);
    }
  }
  await checkRefundedUnits(r, m, before, freeBefore);
}

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

// ---- group buy -------------------------------------------------------------------------------

type JoinTarget = 'open' | 'any' | 'own' | 'unknown';

/**
 * A fan's purchase with a groupId (docs/api.md "Campaigns"): an open group of the drop (most
 * often), any group it made (a full, complete or failed one refuses: GROUP_FULL,
 * GROUP_CLOSED), a group the fan is seated in already (one seat per fan per group:
 * ALREADY_IN_GROUP, whatever the per-fan limit), or an unknown id (404). Each refusal writes
 * nothing. On a drop without groups the groupId is the body's fault (400).
 */
const groupJoin = command(
  fc.record({
    fan: fanIndex,
    group: orderIndex,
    target: fc.constantFrom<JoinTarget>('open', 'open', 'open', 'open', 'any', 'own', 'unknown'),
    keyed: fc.boolean(),
    // Most members pay at once (topping up when short), as a purchase does: the payment that
    // fills the group is where it completes.
    pay: fc.constantFrom(true, true, true, false),
  }),
  (a) =>
    `group join(fan ${a.fan}, ${a.target} group #${a.group}${a.keyed ? ', keyed' : ''}` +
    `${a.pay ? ', then pay' : ''})`,
  (a) => async (m, r) => {
    const fanId = m.fan(a.fan);
    const own = (m.last?.orders ?? []).filter(
      (o) => o.fanId === fanId && o.groupId !== undefined && ['held', 'grouped'].includes(o.status),
    );
    const groupId =
      a.target === 'unknown' || !m.grouped
        ? `g${'f'.repeat(12)}${a.group.toString(16).padStart(4, '0')}`
        : a.target === 'own' && own.length > 0
          ? own[a.group % own.length].groupId
          : m.pickGroup(a.group, a.target === 'any' ? 'any' : 'open')?.id;
    if (groupId === undefined) return;
    const out = await grabChecked(m, r, {
      fan: a.fan,
      quantity: 1,
      keyed: a.keyed,
      lostReply: false,
      groupId,
    });
    count(r, 'group-join', out.ok ? 'ok' : out.code);
    if (a.target === 'own' && own.length > 0)
      count(r, 'group-join', `own-group:${out.ok ? 'ok' : out.code}`);
    if (!m.grouped) count(r, 'group-join', 'no-groups');
    if (out.ok && a.pay && !out.replayed) await payAtOnce(m, r, out.order, true);
  },
);

/**
 * Units the sale freed in a step (orders leaving held, paying, grouped or paid for expired,
 * cancelled or refunded) went, each exactly once, down the line (a backfill from that order)
 * or back to stock (or parked while paused): a group's failure expires its holds and refunds
 * its paid members.
 */
async function checkFreedUnits(
  r: Real,
  m: SaleModel,
  before: StoredSale,
  freeBefore: number,
): Promise<void> {
  const live = ['held', 'paying', 'grouped', 'paid'];
  const was = new Map(before.orders.map((o) => [o.id, o.status]));
  const after = await sale(r, m);
  const freed = after.orders.filter(
    (o) =>
      live.includes(was.get(o.id) ?? '') && !live.includes(o.status) && o.status !== 'refunding',
  );
  const ids = new Set(freed.map((o) => o.id));
  const units = freed.reduce((n, o) => n + o.quantity, 0);
  const passedDown = after.orders
    .filter((o) => !was.has(o.id) && o.fromOrderId !== undefined && ids.has(o.fromOrderId))
    .reduce((n, o) => n + o.quantity, 0);
  const toStock = (await freeUnits(r, m)) - freeBefore;
  if (toStock + passedDown !== units) {
    fail(
      `${[...ids].join(' ')} freed ${units} units: ${passedDown} went down the line, stock ` +
        `and parked moved by ${toStock}`,
    );
  }
}

/** One pass of the worker's group sweeper; it must not fail a group it takes. */
async function groupSweepNow(r: Real): Promise<void> {
  const report = await r.world.groupSweeper.sweepOnce();
  r.coverage.add(`group-fail:sweeper-pass-${report.completed}c${report.failed}f${report.failing}w`);
  if (report.errors > 0) fail(`the group sweeper failed on ${report.errors} groups`);
}

/**
 * The clock passes one open group's deadline (or every open group's), then the group sweeper
 * runs (docs/api.md "Campaigns": a group not complete groupSeconds after it started fails): the
 * group fails, its held members expire, its grouped members are refunded from escrow (checked
 * by takeRefunds: exactly their payment, to their payer, once), every unit goes back; a member
 * still paying leaves the group failing until its payment settles. The group's clock runs
 * through a pause and past saleEndsAt.
 */
const groupDeadline = command(
  fc.record({ group: orderIndex, every: fc.boolean() }),
  (a) =>
    a.every
      ? 'clock past every open group deadline, then the group sweeper'
      : `clock past the deadline of group #${a.group}, then the group sweeper`,
  (a) => async (m, r) => {
    const open = [...m.groups.values()].filter((g) => g.status === 'open');
    const one = m.pickGroup(a.group, 'open');
    const ids = (a.every ? open : one?.status === 'open' ? [one] : []).map((g) => g.id);
    const before = await sale(r, m);
    const freeBefore = await freeUnits(r, m);
    const now = await r.world.now();
    for (const id of ids) {
      count(r, 'clock-past-deadline');
      await moveGroupDeadline(r.world.redis, m.drop.id, id, now - 1);
    }
    await groupSweepNow(r);
    takeRefunds(m, r);
    for (const id of ids) {
      const g = (await r.world.inventory.group(m.drop.id, id)) ?? fail(`group ${id} is gone`);
      const members = await Promise.all(
        (await r.world.inventory.groupMembers(m.drop.id, id)).map((o) =>
          r.world.inventory.getOrder(o),
        ),
      );
      const left = members.filter((o) => o && ['held', 'grouped', 'paid'].includes(o.status));
      const paying = members.filter((o) => o?.status === 'paying').length;
      if (left.length > 0 || g.status !== (paying > 0 ? 'failing' : 'failed')) {
        fail(
          `group ${id} past its deadline is ${g.status}, members ` +
            members.map((o) => o?.status).join(' '),
        );
      }
    }
    await checkFreedUnits(r, m, before, freeBefore);
  },
);

/**
 * A group sweeper pass on its own, half the time once the completion grace of every completing
 * group has passed (the clock moved): a completion a crashed payer left (`completing`) must then
 * be finished, every member's escrow released once and every member paid; a group left failing
 * (a member was paying at its deadline) is taken further.
 */
const groupSweep = command(
  fc.boolean(),
  (grace) =>
    grace ? 'clock past the completion grace, then the group sweeper' : 'group sweeper pass',
  (grace) => async (m, r) => {
    const completing = [...m.groups.values()].filter((g) => g.status === 'completing');
    const before = await sale(r, m);
    const freeBefore = await freeUnits(r, m);
    if (grace) {
      const now = await r.world.now();
      for (const g of completing) {
        count(r, 'clock-past-deadline');
        await moveGroupDue(r.world.redis, m.drop.id, g.id, now - 1);
      }
    }
    await groupSweepNow(r);
    takeReleases(m, r);
    takeRefunds(m, r);
    for (const g of grace ? completing : []) {
      const now = await r.world.inventory.group(m.drop.id, g.id);
      if (now?.status !== 'complete') fail(`the group sweeper left group ${g.id} ${now?.status}`);
    }
    await checkFreedUnits(r, m, before, freeBefore);
  },
);

// ---- races -----------------------------------------------------------------------------------

/**
 * Completion racing the failure (group buy): the payment that would fill a group against the
 * group sweeper, the group's deadline moved to the moment of the race (or just past it). The
 * fence decides once: complete (the payment answered `paid`, every member paid, released once)
 * or failed (every paid member refunded once, nothing released, every unit back); never both,
 * never neither once the deadline has passed and the sweeper has been again.
 */
async function raceCompletionWithFailure(
  m: SaleModel,
  r: Real,
  i: number,
  pastDeadline: boolean,
): Promise<void> {
  const member = await fillingMember(m, r, i);
  if (!member?.groupId) return;
  const gid = member.groupId;
  const before = await sale(r, m);
  const freeBefore = await freeUnits(r, m);
  // Just past the deadline (the failure must win), or a few milliseconds ahead of it: the
  // payment's debit and complete_payment then meet the deadline and the sweeper at once.
  const deadline = (await r.world.now()) + (pastDeadline ? -1 : [5, 20, 60][i % 3]);
  count(r, 'clock-past-deadline');
  await moveGroupDeadline(r.world.redis, m.drop.id, gid, deadline);
  const [answer] = await Promise.all([payOnce(m, r, member.id, member.fanId), groupSweepNow(r)]);
  takeDebits(m, r);
  // Past the deadline now: the sweeper again (twice: a member paying at the first pass has
  // settled by the second), so the group has ended one way.
  while ((await r.world.now()) <= deadline) await new Promise((res) => setTimeout(res, 2));
  await groupSweepNow(r);
  await groupSweepNow(r);
  takeReleases(m, r);
  takeRefunds(m, r);
  const g = (await r.world.inventory.group(m.drop.id, gid)) ?? fail(`group ${gid} is gone`);
  count(r, 'group-race', `${answer}+${g.status}`);
  if (g.status === 'complete') {
    if (answer !== 'paid') fail(`group ${gid} completed, its filling payment answered ${answer}`);
  } else if (g.status === 'failed') {
    if (answer === 'paid') fail(`group ${gid} failed, its filling payment answered paid`);
    if (m.debited.has(member.id) && !m.refunded.has(member.id)) {
      fail(`group ${gid} failed, the member ${member.id} debited was not refunded`);
    }
  } else {
    fail(
      `group ${gid}: its filling payment answered ${answer}, past its deadline it is ${g.status}`,
    );
  }
  await checkFreedUnits(r, m, before, freeBefore);
}

/** The group race as a step of its own (group-buy drops): its weight is the race's. */
const groupRace = command(
  fc.record({ order: orderIndex, pastDeadline: fc.boolean() }),
  (a) =>
    `race(order #${a.order}: pay+group-sweeper${a.pastDeadline ? ', the group past its deadline' : ''})`,
  (a) => (m, r) => raceCompletionWithFailure(m, r, a.order, a.pastDeadline),
);

/**
 * Group buy's completion on its own: the payment that fills a group (a member made to be it when
 * none is held), at once, so the group completes (every member paid, each released once). The
 * race above ends in the group's failure as often as not; this is completion's own knob.
 */
const completeGroup = command(
  orderIndex,
  (i) => `pay(order #${i}, the payment that fills its group)`,
  (i) => async (m, r) => {
    const member = await fillingMember(m, r, i);
    if (member) await payAtOnce(m, r, member, true);
  },
);

type RaceWith = 'pay+cancel' | 'pay+sweeper' | 'cancel+sweeper' | 'pay+recovery';

const race = command(
  fc.record({
    order: orderIndex,
    with: fc.constantFrom<RaceWith>('pay+cancel', 'pay+sweeper', 'cancel+sweeper', 'pay+recovery'),
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
  grouped = false,
): fc.Arbitrary<fc.AsyncCommand<SaleModel, Real>> {
  const drawn = allocation === 'draw';
  // Group buy: a group completes when it fills, so purchases (three in four join an open group)
  // weigh more than grabs (each starts a group); a pause, which refuses every join, less.
  const weighted: [number, fc.Arbitrary<SimCommand>][] = [
    [drawn ? 6 : 4, reserve],
    [2, share],
    [drawn ? 1 : grouped ? 4 : 8, grab],
    [drawn ? 0 : grouped ? 8 : 4, purchaseOf(grouped)],
    [drawn ? 0 : grouped ? 2 : 4, rush],
    [drawn ? 1 : 4, joinWaitlist],
    [5, cancel],
    [5, credit],
    [10, pay],
    [11, expireByClock],
    [8, agePastDeadline],
    [1, sweep],
    [2, recover],
    [grouped ? 1 : 2, pause],
    [5, resume],
    [2, lifecycle],
    [drawn ? 4 : 1, draw],
    [drawn ? 3 : 1, clock],
    [1, relayResend],
    [3, race],
    [13, refund],
    // A referred fan's purchase and its refund: rewards paid and reversed where most drops pay
    // none (few units, soon sold out; a group-buy drop pays its members' rewards with the
    // group's release, and a refund of a completed member reverses them).
    [drawn || grouped ? 0 : 6, referredRefund],
    [1, recoverRefunds],
    // Group buy: joins (and their refusals) weigh most, then completion racing the failure at
    // the deadline, each group's end by the clock, the sweeper finishing a crashed completion;
    // on a drop without groups a groupId is a 400.
    [grouped ? 10 : drawn ? 0 : 1, groupJoin],
    [grouped ? 12 : 0, groupRace],
    [grouped ? 6 : 0, completeGroup],
    [grouped ? 5 : 0, completerKilled],
    [grouped ? 3 : 0, groupDeadline],
    [grouped ? 2 : 0, groupSweep],
  ];
  return fc.oneof(
    ...weighted.filter(([w]) => w > 0).map(([weight, arbitrary]) => ({ weight, arbitrary })),
  );
}
