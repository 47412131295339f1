import { DataSource } from 'typeorm';
import { Order } from '@flashdrop/contracts';
import { DropDefinition, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { api, ApiResponse } from './api-client';
import { dropDefinition, redisNow } from './inventory-fixtures';
import { tokenFor, uniqueId } from './tokens';

/**
 * A drop on sale now (no reservation needed) and one held order per fan, made straight in
 * Redis with the inventory scripts, as the grab route would.
 */
export async function heldOrders(
  inventory: Inventory,
  fans: readonly string[],
  overrides: Partial<DropDefinition> = {},
  /** Referral rewards: each fan first reserves with the referrer this gives (none: undefined). */
  referrerOf?: (fanId: string, index: number) => string | undefined,
): Promise<{ drop: DropDefinition; orders: InventoryOrder[] }> {
  const drop = dropDefinition(await redisNow(inventory.redis), {
    brandId: uniqueId('brand'),
    quantity: fans.length,
    reservationRequired: false,
    reservationOpensAt: undefined,
    reservationClosesAt: undefined,
    priceMinor: 1_999,
    ...overrides,
  });
  await inventory.createDrop(drop);
  const orders: InventoryOrder[] = [];
  for (let i = 0; i < fans.length; i += 200) {
    const batch = await Promise.all(
      fans.slice(i, i + 200).map(async (fanId, k) => {
        if (referrerOf) {
          const reserved = await inventory.reserve(drop.id, fanId, referrerOf(fanId, i + k));
          if (!reserved.ok) throw new Error(`reserve refused: ${reserved.code}`);
        }
        const grabbed = await inventory.grab({
          dropId: drop.id,
          fanId,
          quantity: 1,
        });
        if (!grabbed.ok) throw new Error(`grab refused: ${grabbed.code}`);
        return grabbed.order;
      }),
    );
    orders.push(...batch);
  }
  return { drop, orders };
}

export function pay(
  orderId: string,
  fanId: string,
  headers: Record<string, string> = {},
  baseUrl?: string,
): Promise<ApiResponse<Order & { error?: string }>> {
  return api<Order & { error?: string }>('POST', `/v1/orders/${orderId}/payment`, {
    token: tokenFor('fan', fanId),
    headers,
    ...(baseUrl ? { baseUrl } : {}),
  });
}

/**
 * Credits every fan `amountMinor` through the API, 100 at a time. Set-up, not the behaviour
 * under test: a credit the wallet did not answer in time (503 on a loaded box) is sent again
 * with its reference, as a client does, so it lands once (201, or 200 if the first try landed).
 */
export async function fund(fans: readonly string[], amountMinor: number, baseUrl?: string) {
  const operator = tokenFor('operator');
  const credit = async (fanId: string) => {
    const reference = uniqueId('topup');
    for (let attempt = 1; ; attempt++) {
      const res = await api('POST', `/v1/wallets/${fanId}/credits`, {
        token: operator,
        body: { amountMinor, reference },
        ...(baseUrl ? { baseUrl } : {}),
      });
      if (res.status !== 503 || attempt === 5) return res;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  };
  for (let i = 0; i < fans.length; i += 100) {
    const results = await Promise.all(fans.slice(i, i + 100).map(credit));
    // 200: an earlier try of the same reference had landed (its references are new otherwise).
    const bad = results.find((r) => r.status !== 201 && r.status !== 200);
    if (bad) throw new Error(`credit answered ${bad.status}: ${JSON.stringify(bad.body)}`);
  }
}

/** The wallet's record of an order: its debits (transfers) and balances of its fan. */
export async function debitsOf(db: DataSource, orderIds: readonly string[]) {
  const rows: { order_id: string; n: string; amount: string }[] = await db.query(
    `SELECT order_id, count(*) AS n, sum(amount_minor) AS amount FROM wallet.transfers
     WHERE kind = 'payment' AND order_id = ANY($1) GROUP BY order_id`,
    [orderIds],
  );
  return new Map(rows.map((r) => [r.order_id, { count: Number(r.n), amount: Number(r.amount) }]));
}

export async function balancesOf(db: DataSource, fans: readonly string[]) {
  const rows: { owner_id: string; balance_minor: string }[] = await db.query(
    `SELECT owner_id, balance_minor FROM wallet.accounts
     WHERE kind = 'fan' AND currency = 'CNY' AND owner_id = ANY($1)`,
    [fans],
  );
  return new Map(rows.map((r) => [r.owner_id, Number(r.balance_minor)]));
}

/**
 * The drop's ledger transfers by (kind, order), each with how often it was made: a crash test
 * asserts every one was made once, then reads each order's kinds (`kindsOf`, sorted).
 */
export async function transfersByOrder(db: DataSource, dropId: string) {
  const moved: { kind: string; order_id: string; n: number }[] = await db.query(
    `SELECT kind, order_id, count(*)::int AS n FROM wallet.transfers
     WHERE drop_id = $1 GROUP BY kind, order_id`,
    [dropId],
  );
  const kindsOf = (orderId: string): string[] =>
    moved
      .filter((m) => m.order_id === orderId)
      .map((m) => m.kind)
      .sort();
  return { moved, kindsOf };
}

export async function revenueOf(db: DataSource, brandId: string): Promise<number> {
  const [row] = await db.query(
    `SELECT COALESCE(sum(balance_minor), 0) AS total FROM wallet.accounts
     WHERE kind = 'revenue' AND owner_id = $1`,
    [brandId],
  );
  return Number(row.total);
}

export function fanIds(n: number): string[] {
  return Array.from({ length: n }, () => uniqueId('fan'));
}
