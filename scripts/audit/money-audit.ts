import { DataSource } from 'typeorm';
import { Breach } from './breach';
import { StoredOrder } from './sales-audit';

/** A debit whose order is still `paying` this long after payingUntil is stuck. */
const STUCK_AFTER_MS = 30_000;

const rows = async <T>(db: DataSource, sql: string): Promise<T[]> => db.query(sql);

/**
 * Invariant 4 from the `wallet` schema alone, and invariant 5 across the wallet and the
 * orders in Redis: every paid order debited exactly once with its amount, every debit
 * belonging to a paid order, nothing debited on an expired or cancelled order.
 */
export async function auditMoney(
  db: DataSource,
  orders: ReadonlyMap<string, StoredOrder>,
  now: number,
  dropIds?: readonly string[],
): Promise<{ breaches: Breach[]; accounts: number; transfers: number }> {
  const breaches: Breach[] = [];
  const money = (subject: string, message: string) =>
    breaches.push({ invariant: 4, subject, message });
  const once = (subject: string, message: string) =>
    breaches.push({ invariant: 5, subject, message });

  for (const t of await rows<{ id: string; n: string; total: string }>(
    db,
    `SELECT t.id, count(e.id) AS n, COALESCE(sum(e.amount_minor), 0) AS total
     FROM wallet.transfers t LEFT JOIN wallet.entries e ON e.transfer_id = t.id
     GROUP BY t.id HAVING count(e.id) <> 2 OR COALESCE(sum(e.amount_minor), 0) <> 0
        OR bool_or(abs(e.amount_minor) <> t.amount_minor)`,
  )) {
    money(`transfer ${t.id}`, `not balanced: ${t.n} entries summing to ${t.total}`);
  }
  for (const a of await rows<{ id: string; balance: string; sum: string }>(
    db,
    `SELECT a.id, a.balance_minor AS balance, COALESCE(s.total, 0) AS sum
     FROM wallet.accounts a
     LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM wallet.entries
                GROUP BY account_id) s ON s.account_id = a.id
     WHERE a.balance_minor <> COALESCE(s.total, 0)`,
  )) {
    money(`account ${a.id}`, `balance ${a.balance} != sum of its entries ${a.sum}`);
  }
  for (const a of await rows<{ id: string; kind: string; balance: string }>(
    db,
    `SELECT id, kind, balance_minor AS balance FROM wallet.accounts
     WHERE kind <> 'external' AND balance_minor < 0`,
  )) {
    money(`account ${a.id}`, `${a.kind} balance ${a.balance} is negative`);
  }
  for (const c of await rows<{ currency: string; held: string; credited: string; ext: string }>(
    db,
    `SELECT cur.currency,
            (SELECT COALESCE(sum(balance_minor), 0) FROM wallet.accounts
             WHERE kind <> 'external' AND currency = cur.currency) AS held,
            (SELECT COALESCE(sum(amount_minor), 0) FROM wallet.transfers
             WHERE kind = 'credit' AND currency = cur.currency) AS credited,
            (SELECT COALESCE(sum(balance_minor), 0) FROM wallet.accounts
             WHERE kind = 'external' AND currency = cur.currency) AS ext
     FROM (SELECT DISTINCT currency FROM wallet.accounts) cur`,
  )) {
    if (BigInt(c.held) !== BigInt(c.credited) || BigInt(c.ext) !== -BigInt(c.credited)) {
      money(
        `currency ${c.currency}`,
        `fans+revenue hold ${c.held}, external credits ${c.credited}, external account ${c.ext}`,
      );
    }
  }

  // Order ids embed their drop id (libs/inventory ids.ts): `<dropId>-<random>`.
  const inScope = (orderId: string) =>
    !dropIds || dropIds.some((dropId) => orderId.startsWith(`${dropId}-`));
  const debits = await rows<{ order_id: string; fan_id: string; amount: string; n: string }>(
    db,
    `SELECT order_id, min(fan_id) AS fan_id, sum(amount_minor) AS amount, count(*) AS n
     FROM wallet.transfers WHERE kind = 'payment' GROUP BY order_id`,
  );
  const fenced = await rows<{ order_id: string; n: string }>(
    db,
    `SELECT order_id, count(*) AS n FROM wallet.payments WHERE status = 'debited'
     GROUP BY order_id HAVING count(*) <> 1`,
  );
  for (const f of fenced) {
    if (inScope(f.order_id)) once(`order ${f.order_id}`, `${f.n} debited payment attempts`);
  }
  const debited = new Map(debits.map((d) => [d.order_id, d]));
  for (const d of debits) {
    if (!inScope(d.order_id)) continue;
    const subject = `order ${d.order_id}`;
    if (Number(d.n) !== 1) once(subject, `debited ${d.n} times`);
    const order = orders.get(d.order_id);
    if (!order) {
      once(subject, `debited ${d.amount} but no such order in Redis`);
      continue;
    }
    if (order.status === 'paying') {
      if ((order.payingUntil ?? 0) + STUCK_AFTER_MS < now) {
        once(subject, 'debited but stuck in paying long after payingUntil');
      }
      continue;
    }
    if (order.status !== 'paid') once(subject, `debited but ${order.status}`);
    if (Number(d.amount) !== order.amountMinor) {
      once(subject, `debited ${d.amount}, the order costs ${order.amountMinor}`);
    }
    if (d.fan_id !== order.fanId) once(subject, `debited fan ${d.fan_id}, not ${order.fanId}`);
  }
  for (const order of orders.values()) {
    if (order.status === 'paid' && !order.walletless && !debited.has(order.id)) {
      once(`order ${order.id}`, 'paid but never debited');
    }
  }
  const [{ accounts }] = await rows<{ accounts: string }>(
    db,
    `SELECT count(*) AS accounts FROM wallet.accounts`,
  );
  const [{ transfers }] = await rows<{ transfers: string }>(
    db,
    `SELECT count(*) AS transfers FROM wallet.transfers`,
  );
  return { breaches, accounts: Number(accounts), transfers: Number(transfers) };
}
