import type { AllocationEntry, AllocationKind } from '@flashdrop/fair';
import { DataSource } from 'typeorm';

interface AllocationRow {
  seq: string;
  at: Date;
  kind: AllocationKind;
  order_id: string;
  fan_id: string;
  quantity: number;
  from_order_id: string | null;
  hash: string;
}

/** The last entry of a drop's log: where the chain continues from. */
export interface AllocationHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * `sales.allocations`: every drop's hash-chained allocation log (API.md "Fair launch"), and its
 * only door. The worker's allocation log writer appends to it in sequence order; the public
 * route and the audit read it.
 */
export class AllocationRecords {
  constructor(private readonly db: DataSource) {}

  /**
   * Appends entries of one drop (in seq order, chained by the caller). Idempotent: an entry
   * whose seq is already stored is left as it is (a replay after a crash writes the same).
   */
  async append(dropId: string, entries: readonly AllocationEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const cols: unknown[][] = Array.from({ length: 8 }, () => []);
    for (const e of entries) {
      [e.seq, e.at, e.kind, e.orderId, e.fanId, e.quantity, e.fromOrderId ?? null, e.hash].forEach(
        (v, i) => cols[i].push(v),
      );
    }
    await this.db.query(
      `INSERT INTO sales.allocations (drop_id, seq, at, kind, order_id, fan_id, quantity,
         from_order_id, hash)
       SELECT $1, seq, at, kind, order_id, fan_id, quantity, from_order_id, hash
       FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
         $7::int[], $8::text[], $9::text[])
         AS t(seq, at, kind, order_id, fan_id, quantity, from_order_id, hash)
       ON CONFLICT (drop_id, seq) DO NOTHING`,
      [dropId, ...cols],
    );
  }

  /** The last stored entry of a drop, or undefined when its log is empty. */
  async head(dropId: string): Promise<AllocationHead | undefined> {
    const rows = (await this.db.query(
      `SELECT seq, hash FROM sales.allocations WHERE drop_id = $1 ORDER BY seq DESC LIMIT 1`,
      [dropId],
    )) as { seq: string; hash: string }[];
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : undefined;
  }

  /** Up to `limit` entries after `afterSeq`, in order. */
  async page(dropId: string, afterSeq: number, limit: number): Promise<AllocationEntry[]> {
    const rows = (await this.db.query(
      `SELECT seq, at, kind, order_id, fan_id, quantity, from_order_id, hash
       FROM sales.allocations WHERE drop_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [dropId, afterSeq, limit],
    )) as AllocationRow[];
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at.toISOString(),
      kind: r.kind,
      orderId: r.order_id,
      fanId: r.fan_id,
      quantity: r.quantity,
      ...(r.from_order_id === null ? {} : { fromOrderId: r.from_order_id }),
      hash: r.hash,
    }));
  }
}
