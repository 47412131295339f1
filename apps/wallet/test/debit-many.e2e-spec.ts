import type { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';
import { DebitRequest, DomainError, WalletPatterns } from '@flashdrop/contracts';
import { WalletClient } from '@flashdrop/wallet-client';
import { Inventory } from '@flashdrop/inventory';
import {
  debitsOf,
  fanIds,
  FrameTap,
  heldOrders,
  testConfig,
  uniqueId,
  closeStackConnections,
  openStackConnections,
} from '@flashdrop/testing';
import { runAudit } from '@flashdrop/audit';
import { LedgerFacts } from '@flashdrop/ledger';

const PRICE = 1_999;

/**
 * Debits asked together leave the client as one `debitMany` message (libs/wallet-client
 * WalletClient), read off the wire by a tap in front of the running wallet service; each item
 * still gets its own answer: a refusal of one (a bad message, too little money) touches none
 * of the others.
 */
describe('wallet debitMany (debits sent together)', () => {
  let redis: RedisClient;
  let db: DataSource;
  let wallet: WalletClient;
  let tap: FrameTap;

  beforeAll(async () => {
    ({ redis, db } = await openStackConnections());
    const { WALLET_HOST, WALLET_PORT } = testConfig();
    tap = new FrameTap(WALLET_PORT, WALLET_HOST);
    const port = await tap.start();
    wallet = new WalletClient({ host: '127.0.0.1', port, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await wallet.onApplicationShutdown();
    await tap.stop();
    await closeStackConnections({ redis, db });
  });

  it('answers each debit of one message on its own: debited, declined, refused', async () => {
    const inventory = new Inventory(redis);
    const fans = fanIds(5);
    const { drop, orders } = await heldOrders(inventory, fans, { priceMinor: PRICE });
    const [ok1, ok2, poor, bad, ok3] = orders;
    for (const o of [ok1, ok2, bad, ok3]) {
      await wallet.credit({
        fanId: o.fanId,
        amountMinor: PRICE,
        currency: 'CNY',
        reference: uniqueId('topup'),
      });
    }
    const attempts = new Map<string, number>();
    for (const o of orders) {
      const begun = await inventory.beginPayment(o.id, { payingTtlMs: 60_000 });
      if (!begun.ok || begun.value.payingUntil === undefined) throw new Error('not begun');
      attempts.set(o.id, begun.value.payingUntil);
    }
    const ask = (o: (typeof orders)[number], extra: Partial<DebitRequest> = {}) =>
      wallet.debit({
        orderId: o.id,
        attempt: attempts.get(o.id)!,
        fanId: o.fanId,
        dropId: drop.id,
        brandId: drop.brandId,
        amountMinor: PRICE,
        currency: 'CNY',
        ...extra,
      });

    // One turn of the event loop: one message of five debits, one of them malformed.
    const results = await Promise.allSettled([
      ask(ok1),
      ask(ok2),
      ask(poor),
      ask(bad, { amountMinor: 0 }),
      ask(ok3),
    ]);
    // On the wire: the five left as one debitMany message, in the order asked, and no single debit.
    expect(tap.sent(WalletPatterns.debit)).toEqual([]);
    const messages = tap.sent(WalletPatterns.debitMany) as { items: DebitRequest[] }[];
    expect(messages).toHaveLength(1);
    expect(messages[0].items.map((d) => d.orderId)).toEqual(orders.map((o) => o.id));
    for (const i of [0, 1, 4]) {
      expect(results[i]).toMatchObject({
        status: 'fulfilled',
        value: { outcome: 'debited', balanceMinor: 0 },
      });
    }
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { outcome: 'declined' } });
    expect(results[3].status).toBe('rejected');
    const refusal = (results[3] as PromiseRejectedResult).reason as DomainError;
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal.code).toBe('VALIDATION_FAILED');

    // What did not happen: nothing moved for the refused or declined ones.
    const debits = await debitsOf(
      db,
      orders.map((o) => o.id),
    );
    expect([...debits.keys()].sort()).toEqual([ok1.id, ok2.id, ok3.id].sort());
    const fences: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM wallet.payments WHERE order_id = $1`,
      [bad.id],
    );
    expect(Number(fences[0].n)).toBe(0);

    for (const o of [ok1, ok2, ok3]) expect((await inventory.completePayment(o.id)).ok).toBe(true);
    for (const o of [poor, bad]) await inventory.abortPayment(o.id, attempts.get(o.id)!);
    expect((await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches).toEqual(
      [],
    );
  });
});
