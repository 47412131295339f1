import { InventoryOrder } from '@flashdrop/inventory';
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
   * a terminal status (paid, expired, cancelled) is final, so a replayed or late copy never
   * moves an order back.
   */
  async upsert(orders: readonly InventoryOrder[]): Promise<void> {
    if (orders.length === 0) return;
    const columns: unknown[][] = Array.from({ length: 10 }, () => []);
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
      ];
      row.forEach((value, i) => columns[i].push(value));
    }
    // One array per column (unnest), not ten parameters per row: the statement text and its
    // parameter list stay the same size whatever the batch, which PostgreSQL parses and binds
    // far more cheaply than 5,000 separate parameters.
    await this.db.query(
      `INSERT INTO sales.orders (id, drop_id, fan_id, quantity, amount_minor, currency, status,
         created_at, expires_at, paid_at, updated_at)
       SELECT id, drop_id, fan_id, quantity, amount_minor, currency, status, created_at,
         expires_at, paid_at, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[],
         $7::text[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[])
         AS t(id, drop_id, fan_id, quantity, amount_minor, currency, status, created_at,
           expires_at, paid_at)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, paid_at = EXCLUDED.paid_at,
         updated_at = now()
       WHERE sales.orders.status IN ('held', 'paying')`,
      columns,
    );
  }
}

function fromRow(row: OrderEntity): InventoryOrder {
  return {
    id: row.id,
    dropId: row.dropId,
    fanId: row.fanId,
    quantity: row.quantity,
    amountMinor: row.amountMinor,
    currency: row.currency,
    status: row.status,
    createdAt: row.createdAt.getTime(),
    expiresAt: row.expiresAt.getTime(),
    paidAt: row.paidAt?.getTime(),
  };
}
