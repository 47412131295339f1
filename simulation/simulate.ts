import { Allocation } from '@flashdrop/inventory';
import { dropDefinition } from '@flashdrop/testing';
import fc from 'fast-check';
import { checkStep, InvariantBroken } from './checks';
import { commandArbitrary, Real } from './commands';
import { Coverage } from './coverage';
import { SaleModel } from './model';
import { World } from './world';

/** The most steps of one seed (the length is drawn evenly from 0 to this: 75 on average). */
export const MAX_STEPS = 150;
/** How long a failing seed may shrink. */
const SHRINK_LIMIT_MS = 240_000;

/** One seed's drop: its shape is drawn too, so shrinking can simplify it. */
interface DropShape {
  readonly allocation: Allocation;
  readonly quantity: number;
  readonly perUserLimit: number;
  readonly reservationRequired: boolean;
  readonly fans: number;
  readonly priceMinor: number;
  /** Members-only (docs/api.md "Campaigns"): the drop's audienceTier, and which fans carry it. */
  readonly membersOnly: boolean;
  /** Bit i: fan i's token carries the drop's tier (else another tier, or none). */
  readonly tierMask: number;
  /** The share discount and the referral reward, as parts of the price (a reward in 5 of 6). */
  readonly discount: 'none' | 'fifth';
  readonly reward: 'none' | 'tenth' | 'most';
  /** Group buy: the drop's groupSize (0: no groups; first-come drops only). */
  readonly groupSize: number;
}

const baseShape = fc.record({
  allocation: fc.constantFrom<Allocation>('first_come', 'first_come', 'draw'),
  // Few units among more fans: the drop sells out, fans queue, releases pass down the line
  // (more fans than units by three on average: the line is long enough to backfill). Drawn
  // evenly: fast-check's bias would make half the drops one unit among four fans.
  quantity: fc.noBias(fc.integer({ min: 1, max: 5 })),
  perUserLimit: fc.integer({ min: 1, max: 2 }),
  reservationRequired: fc.constantFrom(false, false, true),
  fans: fc.noBias(fc.integer({ min: 4, max: 8 })),
  priceMinor: fc.constantFrom(500, 1_250, 9_900),
  membersOnly: fc.constantFrom(false, false, true),
  tierMask: fc.noBias(fc.nat({ max: 255 })),
  discount: fc.constantFrom<DropShape['discount']>('none', 'fifth'),
  // The most a reward may be (price - discount) makes a refund's reversal meet a spent reward.
  reward: fc.constantFrom<DropShape['reward']>('none', 'tenth', 'tenth', 'tenth', 'most', 'most'),
  // Group buy in half the first-come drops, groups of 2 or 3 (a draw drop has no groups: 400).
  groupSize: fc.constantFrom(0, 0, 0, 2, 2, 3),
});

/**
 * A group-buy drop's own knobs: groups must fill to complete, so it has units for three to five
 * groups (with two to four, seeds 0..149 met the group race a third less often: the filling
 * member could not be made for want of stock), fans for two groups at least (one seat per fan per group) and mostly a per-fan limit
 * of two (a fan in two groups), and the knobs that refuse a join (members-only, required
 * reservations) in one drop in six each.
 */
const groupShape = (groupSize: number) =>
  fc.record({
    quantity: fc.noBias(fc.integer({ min: 3 * groupSize, max: 5 * groupSize })),
    fans: fc.noBias(fc.integer({ min: 2 * groupSize + 1, max: 8 })),
    perUserLimit: fc.constantFrom(1, 2, 2),
    membersOnly: fc.constantFrom(false, false, false, false, false, true),
    reservationRequired: fc.constantFrom(false, false, false, false, false, true),
  });

const dropShape: fc.Arbitrary<DropShape> = baseShape
  // A draw drop needs reservations (its entrants are the reservations), and has no groups.
  .map((s) => (s.allocation === 'draw' ? { ...s, reservationRequired: true, groupSize: 0 } : s))
  .chain((s) =>
    s.groupSize === 0 ? fc.constant(s) : groupShape(s.groupSize).map((g) => ({ ...s, ...g })),
  );

/** What a seed draws: its drop, then its steps (weighted by the kind of drop). */
export const seedArbitrary = dropShape.chain((shape) =>
  fc.tuple(
    fc.constant(shape),
    // Unbiased: fast-check's bias would give a quarter of the seeds 7 steps or fewer (a
    // seed's cost is mostly its servers' reset and the pipeline at its end, not its steps).
    // Shrinking still shortens a failing sequence to what fails.
    fc.noBias(
      fc.array(commandArbitrary(shape.allocation, shape.groupSize > 0), {
        maxLength: MAX_STEPS,
        size: 'max',
      }),
    ),
  ),
);

export interface SeedResult {
  readonly seed: number;
  readonly ok: boolean;
  /** The shortest failing sequence fast-check found, and why it failed. */
  readonly failure?: string;
  readonly coverage: Coverage;
}

/**
 * Runs one seed: fast-check draws a drop and a sequence of steps from the seed (the same seed
 * draws the same sequence, so `--seed S` replays it), runs it against the real parts with the
 * invariants after each step, and on a failure shrinks it to the shortest sequence that still
 * fails, re-running each candidate on a fresh world.
 */
export async function runSeed(
  world: World,
  seed: number,
  options: { readonly shrink?: boolean } = {},
): Promise<SeedResult> {
  const coverage = new Coverage();
  let firstRun = true;
  let failedAt: number | undefined;
  const property = fc.asyncProperty(seedArbitrary, async ([shape, commands]) => {
    // Only the first run counts for coverage; shrinking re-runs would inflate it.
    const real: Real = { world, coverage: firstRun ? coverage : new Coverage(), sweptUnits: 0 };
    firstRun = false;
    // Each shrinking candidate is a whole run on the servers: past the limit every candidate
    // passes unrun, so shrinking ends with the shortest failing sequence found so far.
    if (failedAt !== undefined && Date.now() - failedAt > SHRINK_LIMIT_MS) return;
    try {
      const model = await startSeed(world, shape);
      await checkStep(world, model);
      await fc.asyncModelRun(() => ({ model, real }), commands);
      if (world.pipeline) {
        const broken = await world.pipeline.settle(world.inventory, model.drop.id);
        if (broken) throw new InvariantBroken(`at the end of the seed: ${broken}`);
        real.coverage.add('relay-resend');
        real.coverage.add('invariant-7');
      }
    } catch (e) {
      failedAt ??= Date.now();
      throw e;
    }
  });
  const details = await fc.check(property, {
    seed,
    numRuns: 1,
    endOnFailure: options.shrink === false,
    verbose: fc.VerbosityLevel.None,
  });
  if (!details.failed) return { seed, ok: true, coverage };
  const [shape, commands] = details.counterexample?.[0] ?? [];
  const error = details.errorInstance;
  const failure = [
    `seed ${seed} fails (shrunk ${details.numShrinks} times):`,
    `  drop: ${JSON.stringify(shape)}`,
    `  steps (${commands?.length ?? 0}):\n    ${(commands ?? []).map(String).join('\n    ')}`,
    `  ${error instanceof Error ? error.message.split('\n').join('\n  ') : String(error)}`,
    `replay: npm run simulate -- --seed ${seed}`,
  ].join('\n');
  return { seed, ok: false, failure, coverage };
}

/** A fresh world with the seed's drop on it, and the model of that drop. */
async function startSeed(world: World, shape: DropShape): Promise<SaleModel> {
  await world.reset();
  const now = await world.now();
  const draw = shape.allocation === 'draw';
  const def = dropDefinition(now, {
    brandId: 'brand-sim',
    quantity: shape.quantity,
    perUserLimit: shape.perUserLimit,
    priceMinor: shape.priceMinor,
    reservationRequired: shape.reservationRequired,
    allocation: shape.allocation,
    ...campaignFields(shape),
    // A draw's sale starts (and its reservations close) when a step moves the clock there.
    ...(draw
      ? { reservationClosesAt: now + 3_600_000, saleStartsAt: now + 3_600_000 }
      : shape.reservationRequired
        ? {}
        : { reservationOpensAt: undefined, reservationClosesAt: undefined }),
  });
  await world.inventory.createDrop(def);
  await world.sales.drops.insert(def);
  const fans = Array.from({ length: shape.fans }, (_, i) => `fan-${i}`);
  // On a members-only drop the fans without its tier carry another, or none.
  const tiers = fans.map((_, i) =>
    (shape.tierMask >> i) & 1 ? MEMBER_TIER : i % 2 === 0 ? 'silver' : undefined,
  );
  return new SaleModel(def, fans, tiers);
}

const MEMBER_TIER = 'gold';
/** A group-buy drop's groupSeconds: the contract's least (60). */
const GROUP_SECONDS = 60;

/** The campaign fields of a seed's drop: members-only, the share discount, the referral reward. */
function campaignFields(shape: DropShape) {
  const discount = shape.discount === 'fifth' ? Math.floor(shape.priceMinor / 5) : 0;
  const reward =
    shape.reward === 'none'
      ? 0
      : shape.reward === 'tenth'
        ? Math.floor(shape.priceMinor / 10)
        : shape.priceMinor - discount;
  return {
    ...(shape.membersOnly ? { audienceTier: MEMBER_TIER } : {}),
    shareDiscountMinor: discount,
    referralRewardMinor: reward,
    // The least time the contract allows a group: the clock moves its deadline, never waits.
    ...(shape.groupSize > 0 ? { groupSize: shape.groupSize, groupSeconds: GROUP_SECONDS } : {}),
  };
}
