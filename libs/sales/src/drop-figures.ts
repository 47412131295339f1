import { toSafeNumber } from '@flashdrop/persistence';
import { DataSource, EntityManager } from 'typeorm';

/** Orders and units of one kind. */
export interface OrderTally {
  readonly orders: number;
  readonly units: number;
  readonly amountMinor: number;
}

/** One second of a drop's sale, in units (seconds with nothing in them are left out). */
export interface SecondOfSale {
  /** The second's start, epoch ms. */
  readonly at: number;
  /** Units grabbed: new holds created in this second (backfills among them). */
  readonly grabbed: number;
  /** Units of the holds handed down from the waitlist in this second (a subset of grabbed). */
  readonly backfilled: number;
  readonly paid: number;
  /** Units whose hold ran out in this second (its deadline, `expiresAt`). */
  readonly expired: number;
  readonly cancelled: number;
  readonly refunded: number;
}

/** A drop's figures as `sales.orders` holds them, all read in one snapshot. */
export interface StoredDropFigures {
  /** By status now; `held` counts `paying` too (as fans see it), `paid` a refund in progress. */
  readonly byStatus: Readonly<
    Record<'held' | 'paid' | 'expired' | 'cancelled' | 'refunded', OrderTally>
  >;
  /** Every order, whatever its status. */
  readonly all: OrderTally;
  /** Every order that was ever paid (a refunded one too). */
  readonly payments: OrderTally;
  /** Fans with an order, and fans with a paid one (not refunded). */
  readonly fans: number;
  readonly buyers: number;
  readonly firstOrderAt?: number;
  readonly lastOrderAt?: number;
  /** When the drop's units were first all taken (held or paid), epoch ms; absent if never. */
  readonly soldOutAt?: number;
  readonly seconds: SecondOfSale[];
}

/**
 * The figures of one drop's report (docs/fulfilment.md "The report after the sale"), computed
 * from `sales.orders`: read-only, and through this door only (libs/sales owns the schema).
 *
 * What each time means: a grab at the order's `created_at`, a payment at `paid_at`, an expiry at
 * the hold's deadline `expires_at` (the contract: a hold not paid by then is expired, whenever
 * the sweeper gets to it), a refund at its `refunded_at`, a cancel at the row's `updated_at`
 * (the moment order persistence stored the change, within its 200 ms pass of the change
 * itself: the row changes no more after a terminal status). A backfill (a released unit handed to the next fan on the
 * waitlist as a new hold) is an order too, so it counts among the grabbed units; which of them
 * were backfills, and when, comes from the drop's allocation log (`sales.allocations`, kind
 * `backfill`, at its `at`), read in the same snapshot.
 */
export class DropFigures {
  constructor(private readonly db: DataSource) {}

  async of(dropId: string, quantity: number): Promise<StoredDropFigures> {
    // One snapshot for every query: the totals, the seconds and the sell-out agree with each
    // other even while the sale goes on and order persistence writes.
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const tallies = await tallyRows(tx, dropId);
      const people = await peopleRow(tx, dropId);
      const seconds = await secondRows(tx, dropId);
      const soldOut = await soldOutRow(tx, dropId, quantity);
      const none: OrderTally = { orders: 0, units: 0, amountMinor: 0 };
      const byStatus: Record<ReportStatus, OrderTally> = {
        held: none,
        paid: none,
        expired: none,
        cancelled: none,
        refunded: none,
      };
      let all = none;
      for (const t of tallies) {
        // A status this report does not know yet (a later one) still counts in `all`.
        if (t.status in byStatus) byStatus[t.status] = add(byStatus[t.status], t);
        all = add(all, t);
      }
      return {
        byStatus,
        all,
        payments: {
          orders: toSafeNumber(people.paid_orders),
          units: toSafeNumber(people.paid_units),
          amountMinor: toSafeNumber(people.paid_amount),
        },
        fans: toSafeNumber(people.fans),
        buyers: toSafeNumber(people.buyers),
        firstOrderAt: people.first_at?.getTime(),
        lastOrderAt: people.last_at?.getTime(),
        soldOutAt: soldOut?.getTime(),
        seconds: seconds.map((s) => ({
          at: s.at.getTime(),
          grabbed: toSafeNumber(s.grabbed),
          backfilled: toSafeNumber(s.backfilled),
          paid: toSafeNumber(s.paid),
          expired: toSafeNumber(s.expired),
          cancelled: toSafeNumber(s.cancelled),
          refunded: toSafeNumber(s.refunded),
        })),
      };
    });
  }
}

type ReportStatus = keyof StoredDropFigures['byStatus'];
interface TallyRow extends OrderTally {
  readonly status: ReportStatus;
}

function add(a: OrderTally, b: OrderTally): OrderTally {
  return {
    orders: a.orders + b.orders,
    units: a.units + b.units,
    amountMinor: a.amountMinor + b.amountMinor,
  };
}

async function tallyRows(tx: EntityManager, dropId: string): Promise<TallyRow[]> {
  const rows = (await tx.query(
    `SELECT CASE status WHEN 'paying' THEN 'held' WHEN 'refunding' THEN 'paid' ELSE status END
       AS status,
       count(*) AS orders, sum(quantity) AS units, sum(amount_minor) AS amount
     FROM sales.orders WHERE drop_id = $1
     GROUP BY 1`,
    [dropId],
  )) as { status: ReportStatus; orders: string; units: string; amount: string }[];
  return rows.map((r) => ({
    status: r.status,
    orders: toSafeNumber(r.orders),
    units: toSafeNumber(r.units),
    amountMinor: toSafeNumber(r.amount),
  }));
}

async function peopleRow(tx: EntityManager, dropId: string) {
  const [row] = (await tx.query(
    `SELECT count(DISTINCT fan_id) AS fans,
       count(DISTINCT fan_id) FILTER (WHERE status IN ('paid', 'refunding')) AS buyers,
       count(*) FILTER (WHERE paid_at IS NOT NULL) AS paid_orders,
       COALESCE(sum(quantity) FILTER (WHERE paid_at IS NOT NULL), 0) AS paid_units,
       COALESCE(sum(amount_minor) FILTER (WHERE paid_at IS NOT NULL), 0) AS paid_amount,
       min(created_at) AS first_at, max(created_at) AS last_at
     FROM sales.orders WHERE drop_id = $1`,
    [dropId],
  )) as {
    fans: string;
    buyers: string;
    paid_orders: string;
    paid_units: string;
    paid_amount: string;
    first_at: Date | null;
    last_at: Date | null;
  }[];
  return row;
}

async function secondRows(tx: EntityManager, dropId: string) {
  return (await tx.query(
    `SELECT s AS at, sum(g) AS grabbed, sum(b) AS backfilled, sum(p) AS paid, sum(e) AS expired,
       sum(c) AS cancelled, sum(r) AS refunded
     FROM (
       SELECT date_trunc('second', created_at) AS s, quantity AS g, 0 AS b, 0 AS p, 0 AS e,
           0 AS c, 0 AS r
         FROM sales.orders WHERE drop_id = $1
       UNION ALL
       SELECT date_trunc('second', at), 0, quantity, 0, 0, 0, 0
         FROM sales.allocations WHERE drop_id = $1 AND kind = 'backfill'
       UNION ALL
       SELECT date_trunc('second', paid_at), 0, 0, quantity, 0, 0, 0
         FROM sales.orders WHERE drop_id = $1 AND paid_at IS NOT NULL
       UNION ALL
       SELECT date_trunc('second', expires_at), 0, 0, 0, quantity, 0, 0
         FROM sales.orders WHERE drop_id = $1 AND status = 'expired'
       UNION ALL
       SELECT date_trunc('second', updated_at), 0, 0, 0, 0, quantity, 0
         FROM sales.orders WHERE drop_id = $1 AND status = 'cancelled'
       UNION ALL
       SELECT date_trunc('second', COALESCE(refunded_at, updated_at)), 0, 0, 0, 0, 0, quantity
         FROM sales.orders WHERE drop_id = $1 AND status = 'refunded'
     ) moves
     GROUP BY s ORDER BY s`,
    [dropId],
  )) as {
    at: Date;
    grabbed: string;
    backfilled: string;
    paid: string;
    expired: string;
    cancelled: string;
    refunded: string;
  }[];
}

/**
 * The first moment the units held or paid reached the drop's quantity: every grab takes its
 * units at created_at, every expiry, cancel and refund gives them back (at the times above).
 * At one instant the releases count first: a grab can only take a unit that is there.
 */
async function soldOutRow(tx: EntityManager, dropId: string, quantity: number) {
  const [row] = (await tx.query(
    `SELECT at FROM (
       SELECT at, sum(delta) OVER (ORDER BY at, delta ROWS UNBOUNDED PRECEDING) AS taken
       FROM (
         SELECT created_at AS at, quantity AS delta FROM sales.orders WHERE drop_id = $1
         UNION ALL
         SELECT GREATEST(expires_at, created_at), -quantity FROM sales.orders
           WHERE drop_id = $1 AND status = 'expired'
         UNION ALL
         SELECT updated_at, -quantity FROM sales.orders WHERE drop_id = $1 AND status = 'cancelled'
         UNION ALL
         SELECT COALESCE(refunded_at, updated_at), -quantity FROM sales.orders
           WHERE drop_id = $1 AND status = 'refunded'
       ) moves
     ) running
     WHERE taken >= $2 ORDER BY at LIMIT 1`,
    [dropId, quantity],
  )) as { at: Date }[];
  return row?.at;
}
