import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Inventory } from '@flashdrop/inventory';
import {
  balancesOf,
  closeStackConnections,
  debitsOf,
  dropKeys,
  fanIds,
  fund,
  heldOrders,
  moveHoldDeadline,
  openStackConnections,
  pay,
} from '@flashdrop/testing';
import { runAudit } from '@flashdrop/audit';
import { LedgerFacts } from '@flashdrop/ledger';

const ROUNDS = 4;
const ORDERS_PER_ROUND = 100;
const PRICE = 1_999;

/**
 * The payment and the hold's deadline arrive together: every order's deadline is moved to the
 * same instant, the payments are sent spread around it while a sweeper expires due holds in a
 * tight loop. Each order must end paid xor expired, charged exactly when paid, with the stock
 * and the money agreeing, and the audit clean.
 */
describe('payment racing the hold deadline', () => {
  let redis: Redis;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  it(`${ROUNDS * ORDERS_PER_ROUND} trials end paid xor expired, money and stock agreeing`, async () => {
    const dropIds: string[] = [];
    let paidTotal = 0;
    let expiredTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const fans = fanIds(ORDERS_PER_ROUND);
      // Twice the price: a double debit would succeed and show.
      await fund(fans, 2 * PRICE);
      const { drop, orders } = await heldOrders(inventory, fans, { priceMinor: PRICE });
      dropIds.push(drop.id);
      const deadline = (await inventory.now()) + 300;
      await Promise.all(orders.map((o) => moveHoldDeadline(redis, o.id, deadline)));

      let sweeping = true;
      const sweeper = (async () => {
        while (sweeping) {
          await inventory.expireDue(drop.id);
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
      const startAt = Date.now() + 300 - 40;
      const answers = await Promise.all(
        orders.map(async (o, i) => {
          // Spread over deadline - 40 ms .. deadline + 40 ms by the test's clock.
          const at = (startAt + (i * 80) / orders.length) | 0;
          await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
          return pay(o.id, o.fanId);
        }),
      );
      sweeping = false;
      await sweeper;
      await new Promise((r) => setTimeout(r, 50));
      await inventory.expireDue(drop.id);

      const debits = await debitsOf(
        db,
        orders.map((o) => o.id),
      );
      const balances = await balancesOf(db, fans);
      let paid = 0;
      for (const [i, o] of orders.entries()) {
        const stored = await inventory.getOrder(o.id);
        const answer = answers[i];
        const debit = debits.get(o.id);
        if (stored?.status === 'paid') {
          paid++;
          expect(answer.status).toBe(200);
          expect(debit).toEqual({ count: 1, amount: PRICE });
          expect(balances.get(o.fanId)).toBe(PRICE);
        } else {
          expect(stored?.status).toBe('expired');
          expect(answer.status).toBe(409);
          expect(answer.body.error).toBe('HOLD_EXPIRED');
          expect(debit).toBeUndefined();
          expect(balances.get(o.fanId)).toBe(2 * PRICE);
        }
      }
      expect(Number(await redis.get(dropKeys(drop.id).stock))).toBe(ORDERS_PER_ROUND - paid);
      paidTotal += paid;
      expiredTotal += ORDERS_PER_ROUND - paid;
    }
    console.log(`payment vs deadline: ${paidTotal} paid, ${expiredTotal} expired`);
    const audit = await runAudit(new Inventory(redis), new LedgerFacts(db), dropIds);
    expect(audit.breaches).toEqual([]);
  }, 120_000);
});
