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
    /** The channels the drop's shares are counted under (a set, at most SHARE_CHANNELS_PER_DROP). */
    shareChannels: `${tag}:sch`,
    /** One fan's orders in this drop, oldest first (a list a grab appends to; bounded, see grab.lua). */
    fanOrders: (fanId: string) => `${tag}:fo:${fanId}`,
    /** The waitlist: fanId -> place (the join counter, or the draw's rank); lowest is served first. */
    waitlist: `${tag}:wl`,
    /** Released units waiting for a paused sale's resume: one entry (the released order id) per unit. */
    parked: `${tag}:parked`,
    /** A draw drop's draw: the secret seed, its commitment, the entrants' digest, the steps done. */
    draw: `${tag}:draw`,
    /**
     * The fans who shared the drop (a set of fan ids): the share discount's record, read by every
     * step that makes a hold. _lib.lua sale_keys derives the same name from the drop key.
     */
    sharers: `${tag}:sh`,
    /**
     * Referred reservations: fanId -> referrerId, only for fans who reserved with a referrer
     * other than themselves (reserve.lua), read by every step that makes a hold for the referral
     * reward. _lib.lua sale_keys derives the same name from the drop key.
     */
    referrers: `${tag}:ref`,
    /** Refunds under way: orderId -> when begin_refund fenced it (the refund recovery's index). */
    refunding: `${tag}:refunding`,
    /**
     * Group buy: the groups not yet finished (open, completing, failing) -> deadline ms; one
     * group's hash; one group's member order ids. _lib.lua group_keys derives the same names.
     */
    groups: `${tag}:groups`,
    group: (groupId: string) => `${tag}:g:${groupId}`,
    groupMembers: (groupId: string) => `${tag}:gm:${groupId}`,
    orderPrefix: `${tag}:o:`,
    order: (orderId: string) => `${tag}:o:${orderId}`,
    /** A run's receipt (share, count_refusals): lets a second run of the call find the first. */
    receipt: (runId: string) => `${tag}:rcpt:${runId}`,
  };
}

export type DropKeys = ReturnType<typeof dropKeys>;

/**
 * The keys of one stock bucket of a drop split into buckets (buckets.ts, docs/scale.md). A
 * bucket has its own hash tag `{d:<dropId>:b<k>}`, so the buckets of one drop hash to different
 * slots, and so to different primaries of a cluster. They hold admission tokens, not the sale's
 * truth: the drop's own `stock` stays the count of units a fan could grab.
 */
export function bucketKeys(dropId: string, bucket: number) {
  const tag = `{d:${dropId}:b${bucket}}`;
  return {
    /** Tokens left in this bucket: a grab takes its quantity here before it reaches the drop. */
    tokens: `${tag}:tokens`,
    /** Tokens taken and not yet settled: `<quantity>|<orderId>` -> when they were taken (ms). */
    taken: `${tag}:taken`,
  };
}

/** The set of every drop id ever created: the audit and the pickers walk it. */
export const DROPS_INDEX_KEY = 'drops:index';

/**
 * The drops that may still need work: every drop from its creation until retire_drop.lua finds
 * it over, holding nothing, and its outbox read by every group. The background loops (the
 * sweeper, the scheduler, the relay and its trimmer, order persistence, payment recovery) and
 * a fan's live orders walk this, so their idle cost follows the open drops, not history.
 */
export const DROPS_ACTIVE_KEY = 'drops:active';

/** `{d:<dropId>}:events` -> dropId (the outbox relay reads many streams in one call). */
export function dropIdOfStream(streamKey: string): string {
  const match = /^\{d:(.+)\}:events$/.exec(streamKey);
  if (!match) throw new Error(`not an outbox stream key: ${streamKey}`);
  return match[1];
}

/**
 * Redis pub/sub channel on which the scripts announce a change to one fan's standing in a drop
 * (a hold passed down to them, the draw placing them): message `<dropId> <fanId>`. Channels are
 * not keys (one namespace per server, across databases): listeners ignore drops they do not watch.
 */
export const STANDING_CHANNEL = 'flashdrop:standing';
