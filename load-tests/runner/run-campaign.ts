import { Inventory } from '@flashdrop/inventory';
import { phoneRush } from '../scenarios/phone-rush';
import { RunContext } from './context';
import { Row } from './report';
import { rush, RushPids, RushResult } from './run-phone';
import { createDrop, fanId, fanTokens, sleep, tokenOf } from './stack';

/** The campaign drop's audience and discount (API.md "Campaigns"). */
const TIER = 'gold';
const DISCOUNT = 10_000;
/** Plain and campaign rushes alternate this many times each, so drift over the run evens out. */
const ROUNDS = 2;
/** After seeding the shares: time for their events to leave the outbox before the rush. */
const SETTLE_MS = 3_000;

export interface CampaignResult {
  readonly fans: number;
  readonly quantity: number;
  /** The same rush on the phone's drop as it is, and with a tier and a share discount set. */
  readonly plain: readonly RushResult[];
  readonly campaign: readonly RushResult[];
  /** Holds of the campaign rushes priced at the discount (every fan shared first). */
  readonly discounted: number;
}

/**
 * What members-only and the share discount cost the grab: the phone rush's drop (without the
 * reservation window, so nothing but the grab is measured) rushed by the same number of fans,
 * alternately as it is and with `audienceTier` and `shareDiscountMinor` set, fans holding the
 * tier and every one of them having shared first (so every hold is decided from a share record
 * and priced at the discount). Both kinds get the same shares, written straight into Redis with
 * the API's share script, so the event pipeline has the same work behind each: the difference
 * is the grab's two extra checks.
 */
export async function runCampaign(
  ctx: RunContext,
  inventory: Inventory,
  fans: number,
  quantity: number,
  maxSeconds: number,
  pids: RushPids,
): Promise<CampaignResult> {
  const brand = tokenOf(ctx.stack, `brand-${ctx.run}-campaign`, 'brand');
  const plainTokens = fanTokens(ctx.stack, `${ctx.run}c`, fans);
  const tierTokens = fanTokens(ctx.stack, `${ctx.run}c`, fans, TIER);
  const plain: RushResult[] = [];
  const campaign: RushResult[] = [];
  let discounted = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['plain', 'campaign'] as const) {
      const saleStartsAt = Date.now() + 1_000;
      const drop = await createDrop(
        ctx.stack,
        brand,
        { ...phoneRush.drop, reservationRequired: false },
        quantity,
        { saleStartsAt },
        `${ctx.run}-${kind}-${round}`,
        kind === 'campaign' ? { audienceTier: TIER, shareDiscountMinor: DISCOUNT } : {},
      );
      for (let from = 0; from < fans; from += 10_000) {
        const batch: Promise<unknown>[] = [];
        for (let i = from; i < Math.min(fans, from + 10_000); i++) {
          batch.push(inventory.share(drop.id, fanId(`${ctx.run}c`, i), 'weibo'));
        }
        await Promise.all(batch);
      }
      await sleep(Math.max(SETTLE_MS, saleStartsAt - Date.now()));
      const tokens = kind === 'campaign' ? tierTokens : plainTokens;
      const result = await rush(ctx.stack.origin, drop.id, quantity, tokens, maxSeconds, pids);
      ctx.log(
        `campaign: ${kind} round ${round + 1}: ${result.drive.rate.toFixed(0)} grabs/s, ` +
          `${result.held} held, ${result.errors} errors`,
      );
      if (kind === 'campaign') {
        campaign.push(result);
        discounted += result.drive.bodies.filter(
          (body) => (JSON.parse(body) as { discountMinor?: number }).discountMinor === DISCOUNT,
        ).length;
      } else {
        plain.push(result);
      }
    }
  }
  return { fans, quantity, plain, campaign, discounted };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The campaign rows: the grab with a tier and a discount against the same grab without. */
export function campaignRows(c: CampaignResult | undefined): Row[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const scale = c ? `${n(c.fans)} fans, ${n(c.quantity)} units, ${ROUNDS} rounds each` : 'not run';
  const rate = (rs: readonly RushResult[]) => mean(rs.map((r) => r.drive.rate));
  const cpu = (rs: readonly RushResult[], part: 'server' | 'redis') =>
    mean(rs.map((r) => r.cpuUsPerGrab[part]));
  const errors = (rs: readonly RushResult[]) => rs.reduce((sum, r) => sum + r.errors, 0);
  return [
    {
      figure: `grabs, members-only + share discount (${scale}; vs the same drop plain)`,
      unit: '/s',
      value: c ? rate(c.campaign) : undefined,
      floor: c ? rate(c.plain) : undefined,
      floorLabel: 'plain',
      ratio: true,
      note: c
        ? `every fan of the tier and shared first: ${n(c.discounted)} of ${n(c.campaign.reduce((k, r) => k + r.held, 0))} holds discounted; errors ${errors(c.campaign)} / ${errors(c.plain)}`
        : undefined,
      load: c?.campaign[0]?.drive.load,
    },
    {
      figure: 'CPU per grab with tier + discount, API (vs plain)',
      unit: 'us',
      value: c ? cpu(c.campaign, 'server') : undefined,
      floor: c ? cpu(c.plain, 'server') : undefined,
      floorLabel: 'plain',
      ratio: true,
    },
    {
      figure: 'CPU per grab with tier + discount, Redis (vs plain)',
      unit: 'us',
      value: c ? cpu(c.campaign, 'redis') : undefined,
      floor: c ? cpu(c.plain, 'redis') : undefined,
      floorLabel: 'plain',
      ratio: true,
    },
  ];
}
