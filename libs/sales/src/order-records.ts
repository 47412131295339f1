import { InventoryOrder } from '@flashdrop/inventory';
import { toSafeNumber } from '@flashdrop/persistence';
import { DataSource, Repository } from 'typeorm';
import { OrderEntity } from './entities/order.entity';

/**
 * `sales.orders`: the durable copy of every order, and its only door. The worker's order
 * persistence writes it (`upsert`); the API reads it for orders Redis no longer has.
 */
export class OrderRecords {
  private readonly orders: Repository<OrderEntity>;

  constructor(private readonly db: DataSource) {
    this.orders = db.getRepository(OrderEntity);
  }

  /** The fan's order, or undefined (another fan's order is as absent as a missing one). */
  async find(fanId: string, orderId: string): Promise<InventoryOrder | undefined> {
    const row = await this.orders.findOneBy({ id: orderId, fanId });
    return row ? fromRow(row) : undefined;
  }

  /**
   * Every stored order of a drop, oldest first: what a drop Redis lost is rebuilt from
   * (libs/inventory `rebuildDrop`).
   */
  async listOfDrop(dropId: string): Promise<InventoryOrder[]> {
    const rows = await this.orders.find({ where: { dropId }, order: { createdAt: 'ASC' } });
    return rows.map(fromRow);
  }

  /**
   * Who holds what of a drop, as stored: each order's id, fan, units and status (the
   * durability audit's read, libs/audit). Plain SQL, so it also serves a DataSource opened
   * without the schema's entities (a test's own, or the audit's).
   */
  async holdersOfDrop(dropId: string): Promise<StoredHolder[]> {
    const rows = (await this.db.query(
      'SELECT id, fan_id, quantity, status FROM sales.orders WHERE drop_id = $1 ORDER BY seq',
      [dropId],
    )) as { id: string; fan_id: string; quantity: number; status: string }[];
    return rows.map((r) => ({ id: r.id, fanId: r.fan_id, quantity: r.quantity, status: r.status }));
  }

  /** The fan's orders, newest first. */
  async listOfFan(fanId: string, limit: number): Promise<InventoryOrder[]> {
    const rows = await this.orders.find({
      where: { fanId },
      order: { createdAt: 'DESC' },
      take: limit,
    });
    return rows.map(fromRow);
  }

  /**
   * Writes each order as Redis holds it now, in one statement. Idempotent and order-proof:
   * a terminal status (expired, cancelled, refunded) is final, grouped moves only on (paid,
   * refunding, refunded) and paid or refunding only to each other or to refunded, so a
   * replayed or late copy never moves an order back out of the paid side. Between paid and
   * refunding both ways are open (a refund begun; a refund the wallet declined, abort_refund):
   * a late copy read before a step is still written over a newer one only where two persisters
   * overlap (a lease handover), and the order's next step writes it again. A refund under way is
   * stored with its attempt (refundingSince), and so is a payment in flight (payingUntil,
   * order.paying), so a drop Redis loses comes back with either. A new row takes the next storage
   * position (`seq`); an update keeps the row's position. While the hold is open its deadline
   * is copied too, so the report after the sale places an expiry at the deadline it really had.
   */
  async upsert(orders: readonly InventoryOrder[]): Promise<void> {
    if (orders.length === 0) return;
    const columns: unknown[][] = Array.from({ length: 20 }, () => []);
    for (const o of orders) {
      const row = [
        o.id,
        o.dropId,
        o.fanId,
        o.quantity,
        o.amountMinor,
        o.currency,
        o.status,
        new Date(o.createdAt),
        new Date(o.expiresAt),
        o.paidAt === undefined ? null : new Date(o.paidAt),
        o.unitPriceMinor,
        o.discountMinor,
        o.refundedAt === undefined ? null : new Date(o.refundedAt),
        o.refundReason ?? null,
        o.referrerId ?? null,
        o.referrerId === undefined ? null : (o.rewardMinor ?? null),
        o.groupId ?? null,
        o.groupedAt === undefined ? null : new Date(o.groupedAt),
        o.status === 'refunding' && o.refundingSince !== undefined
          ? new Date(o.refundingSince)
          : null,
        o.status === 'paying' && o.payingUntil !== undefined ? new Date(o.payingUntil) : null,
      ];
      row.forEach((value, i) => columns[i].push(value));
    }
    const dropIds = [...new Set(orders.map((o) => o.dropId))].sort();
    await this.db.transaction(async (tx) => {
      // What must stay true for the export (pageOfDrop): within one drop, a row with a higher
      // seq is never visible before a row with a lower one, or a reader paging past the higher
      // seq would skip the lower one for good. Writers of one drop therefore take the drop's
      // transaction lock BEFORE the insert draws its seqs, and hold it until commit: one drop's
      // seqs are drawn and committed in the same order, whoever writes (a lease handover can
      // briefly leave two persisters). Locks are taken in sorted order, so writers never deadlock.
      await tx.query(
        `SELECT pg_advisory_xact_lock(hashtextextended('sales.orders:' || d, 0))
         FROM unnest($1::text[]) AS d`,
        [dropIds],
      );
      // One array per column (unnest), not ten parameters per row: the statement text and its
      // parameter list stay the same size whatever the batch, which PostgreSQL parses and binds
      // far more cheaply than 5,000 separate parameters.
      await tx.query(
        `INSERT INTO sales.orders (id, drop_id, fan_id, quantity, amount_minor, currency, status,
           created_at, expires_at, paid_at, unit_price_minor, discount_minor, refunded_at,
           refund_reason, referrer_id, reward_minor, group_id, grouped_at, refunding_since,
           paying_until, updated_at)
         SELECT id, drop_id, fan_id, quantity, amount_minor, currency, status, created_at,
           expires_at, paid_at, unit_price_minor, discount_minor, refunded_at, refund_reason,
           referrer_id, reward_minor, group_id, grouped_at, refunding_since, paying_until, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[],
           $7::text[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], $11::bigint[],
           $12::bigint[], $13::timestamptz[], $14::text[], $15::text[], $16::bigint[],
           $17::text[], $18::timestamptz[], $19::timestamptz[], $20::timestamptz[])
           WITH ORDINALITY AS t(id, drop_id, fan_id, quantity, amount_minor, currency, status,
             created_at, expires_at, paid_at, unit_price_minor, discount_minor, refunded_at,
             refund_reason, referrer_id, reward_minor, group_id, grouped_at, refunding_since,
             paying_until, n)
         ORDER BY n
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, paid_at = EXCLUDED.paid_at,
           expires_at = EXCLUDED.expires_at, refunded_at = EXCLUDED.refunded_at,
           refund_reason = EXCLUDED.refund_reason, grouped_at = EXCLUDED.grouped_at,
           refunding_since = EXCLUDED.refunding_since, paying_until = EXCLUDED.paying_until,
           updated_at = now()
         WHERE sales.orders.status IN ('held', 'paying')
           OR (sales.orders.status = 'grouped'
             AND EXCLUDED.status IN ('paid', 'refunding', 'refunded'))
           OR (sales.orders.status IN ('paid', 'refunding')
             AND EXCLUDED.status IN ('paid', 'refunding', 'refunded'))`,
        columns,
      );
    });
  }

  /**
   * Where one page of a drop's orders ends: of the orders stored after position `after` (0:
   * from the start) with one of `statuses` (all when absent), the position of the `limit`-th
   * (or of the last, when fewer), and whether more are stored beyond it. Reads positions only
   * (at most limit + 1 numbers), so a page's rows can then be streamed with `readPage`.
   */
  async pageBounds(
    dropId: string,
    query: OrderPageQuery,
  ): Promise<{ last: number | undefined; more: boolean }> {
    const rows = (await this.db.query(
      `SELECT seq FROM sales.orders
       WHERE drop_id = $1 AND seq > $2 AND ($3::text[] IS NULL OR status = ANY($3::text[]))
       ORDER BY seq
       LIMIT $4`,
      [dropId, query.after, query.statuses ?? null, query.limit + 1],
    )) as { seq: string }[];
    const page = rows.slice(0, query.limit);
    return {
      last: page.length > 0 ? toSafeNumber(page[page.length - 1].seq) : undefined,
      more: rows.length > query.limit,
    };
  }

  /**
   * The orders of one page, positions (after, upTo], in storage order, each with its status as
   * stored now, `chunk` rows per read: whatever the page's size, one chunk is in memory at a
   * time. Rows never move (see `upsert`), so consecutive pages list every order once, even
   * while orders are being stored and changed; an order whose status left `statuses` between
   * `pageBounds` and this read is left out, as of this read.
   */
  async *readPage(
    dropId: string,
    range: { readonly after: number; readonly upTo: number },
    statuses?: readonly InventoryOrder['status'][],
    chunk = 250,
  ): AsyncGenerator<StoredOrder[]> {
    let after = range.after;
    while (after < range.upTo) {
      const rows = (await this.db.query(
        `SELECT id, drop_id, fan_id, quantity, amount_minor, unit_price_minor, discount_minor,
           currency, status, created_at, expires_at, paid_at, refunded_at, refund_reason,
           refunding_since, seq
         FROM sales.orders
         WHERE drop_id = $1 AND seq > $2 AND seq <= $3
           AND ($4::text[] IS NULL OR status = ANY($4::text[]))
         ORDER BY seq
         LIMIT $5`,
        [dropId, after, range.upTo, statuses ?? null, chunk],
      )) as RawOrderRow[];
      if (rows.length === 0) return;
      const orders = rows.map(fromRaw);
      yield orders;
      if (rows.length < chunk) return;
      after = orders[orders.length - 1].seq;
    }
  }
}

/** Which of a drop's orders a page holds. */
/** One stored order as the durability audit reads it (OrderRecords.holdersOfDrop). */
export interface StoredHolder {
  readonly id: string;
  readonly fanId: string;
  readonly quantity: number;
  readonly status: string;
}

export interface OrderPageQuery {
  /** The storage position the page starts after (0: the first page). */
  readonly after: number;
  readonly limit: number;
  /** Only orders with one of these statuses (all when absent). */
  readonly statuses?: readonly InventoryOrder['status'][];
}

/** An order as stored, with its storage position. */
export interface StoredOrder extends InventoryOrder {
  readonly seq: number;
}

interface RawOrderRow {
  id: string;
  drop_id: string;
  fan_id: string;
  quantity: number;
  amount_minor: string;
  unit_price_minor: string;
  discount_minor: string;
  currency: string;
  status: InventoryOrder['status'];
  created_at: Date;
  expires_at: Date;
  paid_at: Date | null;
  refunded_at: Date | null;
  refund_reason: string | null;
  refunding_since: Date | null;
  seq: string;
}

function fromRaw(row: RawOrderRow): StoredOrder {
  return {
    id: row.id,
    dropId: row.drop_id,
    fanId: row.fan_id,
    quantity: row.quantity,
    amountMinor: toSafeNumber(row.amount_minor),
    unitPriceMinor: toSafeNumber(row.unit_price_minor),
    discountMinor: toSafeNumber(row.discount_minor),
    currency: row.currency,
    status: row.status,
    createdAt: row.created_at.getTime(),
    expiresAt: row.expires_at.getTime(),
    paidAt: row.paid_at?.getTime(),
    ...(row.refunded_at ? { refundedAt: row.refunded_at.getTime() } : {}),
    ...(row.refund_reason ? { refundReason: row.refund_reason } : {}),
    ...(row.refunding_since ? { refundingSince: row.refunding_since.getTime() } : {}),
    seq: toSafeNumber(row.seq),
  };
}

function fromRow(row: OrderEntity): InventoryOrder {
  return {
    id: row.id,
    dropId: row.dropId,
    fanId: row.fanId,
    quantity: row.quantity,
    amountMinor: row.amountMinor,
    unitPriceMinor: row.unitPriceMinor,
    discountMinor: row.discountMinor,
    currency: row.currency,
    status: row.status,
    createdAt: row.createdAt.getTime(),
    expiresAt: row.expiresAt.getTime(),
    paidAt: row.paidAt?.getTime(),
    ...(row.refundedAt ? { refundedAt: row.refundedAt.getTime() } : {}),
    ...(row.refundReason ? { refundReason: row.refundReason } : {}),
    ...(row.refundingSince ? { refundingSince: row.refundingSince.getTime() } : {}),
    ...(row.payingUntil ? { payingUntil: row.payingUntil.getTime() } : {}),
    ...(row.referrerId !== null && row.rewardMinor !== null
      ? { referrerId: row.referrerId, rewardMinor: row.rewardMinor }
      : {}),
    ...(row.groupId !== null ? { groupId: row.groupId } : {}),
    ...(row.groupedAt ? { groupedAt: row.groupedAt.getTime() } : {}),
  };
}
