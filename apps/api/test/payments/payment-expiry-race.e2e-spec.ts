import type { RedisClient } from '@flashdrop/persistence';
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
  soakRounds,
  testConfig,
} from '@flashdrop/testing';
import { runAudit } from '@flashdrop/audit';
import { LedgerFacts } from '@flashdrop/ledger';

const ROUNDS = soakRounds(2);
const ORDERS_PER_ROUND = 100;
const PRICE = 1_999;
/** The orders' deadlines are spread from this long before the payments leave... */
const SPREAD_BEFORE_MS = 200;
/** ...to this long after: the last ones outlive any payment's flight on a loaded box. */
const SPREAD_AFTER_MS = 2_000;

/**
 * The payment and the hold's deadline arrive together: every payment is sent at one instant
 * while the orders' deadlines are spread around it (so on any machine, however loaded, some
 * deadlines fall before a payment lands, some after, and some while it is in flight), and a
 * sweeper expires due holds in a tight loop. Each order must end paid xor expired, charged
 * exactly when paid, with the stock and the money agreeing, and the audit clean; and both
 * outcomes, and deadlines inside a payment's flight, must really have happened.
 */
describe('payment racing the hold deadline', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  it(
    `${ROUNDS * ORDERS_PER_ROUND} trials end paid xor expired, money and stock agreeing`,
    async () => {
      const dropIds: string[] = [];
      const outcomes = { paid: 0, expired: 0, racedPaid: 0, racedExpired: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const fans = fanIds(ORDERS_PER_ROUND);
        // Twice the price: a double debit would succeed and show.
        await fund(fans, 2 * PRICE);
        const { drop, orders } = await heldOrders(inventory, fans, { priceMinor: PRICE });
        dropIds.push(drop.id);
        // The sale clock (Redis TIME) and this process's clock are one machine's clock; the
        // offset only absorbs rounding.
        const offset = (await inventory.now()) - Date.now();
        const clock = () => Date.now() + offset;
        const sendAt = clock() + 300;
        const step = (SPREAD_BEFORE_MS + SPREAD_AFTER_MS) / orders.length;
        const deadlines = orders.map((_, i) => Math.round(sendAt - SPREAD_BEFORE_MS + i * step));
        await Promise.all(orders.map((o, i) => moveHoldDeadline(redis, o.id, deadlines[i])));

        let sweeping = true;
        const sweeper = (async () => {
          while (sweeping) {
            await inventory.expireDue(drop.id);
            await new Promise((r) => setTimeout(r, 1));
          }
        })();
        await new Promise((r) => setTimeout(r, Math.max(0, sendAt - clock())));
        const flights = await Promise.all(
          orders.map(async (o) => {
            const sent = clock();
            const answer = await pay(o.id, o.fanId);
            return { sent, answered: clock(), answer };
          }),
        );
        sweeping = false;
        await sweeper;
        await inventory.expireDue(drop.id);

        const debits = await debitsOf(
          db,
          orders.map((o) => o.id),
        );
        const balances = await balancesOf(db, fans);
        let paid = 0;
        for (const [i, o] of orders.entries()) {
          const stored = await inventory.getOrder(o.id);
          const { sent, answered, answer } = flights[i];
          const debit = debits.get(o.id);
          const raced = sent <= deadlines[i] && deadlines[i] <= answered;
          if (stored?.status === 'paid') {
            paid++;
            if (raced) outcomes.racedPaid++;
            // Fenced (held -> paying) before its deadline: begin_payment's clock gave the attempt
            // payingUntil = its now + the payment window, kept on the order as lastAttempt.
            const attempt = Number(await redis.hget(dropKeys(drop.id).order(o.id), 'lastAttempt'));
            expect(attempt - testConfig().PAYMENT_WINDOW_MS).toBeLessThan(deadlines[i]);
            expect(answer.status).toBe(200);
            expect(debit).toEqual({ count: 1, amount: PRICE });
            expect(balances.get(o.fanId)).toBe(PRICE);
          } else {
            if (raced) outcomes.racedExpired++;
            expect(stored?.status).toBe('expired');
            expect(answer.status).toBe(409);
            expect(answer.body.error).toBe('HOLD_EXPIRED');
            expect(debit).toBeUndefined();
            expect(balances.get(o.fanId)).toBe(2 * PRICE);
          }
        }
        expect(Number(await redis.get(dropKeys(drop.id).stock))).toBe(ORDERS_PER_ROUND - paid);
        outcomes.paid += paid;
        outcomes.expired += ORDERS_PER_ROUND - paid;
      }
      console.log(
        `payment vs deadline: ${outcomes.paid} paid, ${outcomes.expired} expired; deadline inside ` +
          `the payment's flight: ${outcomes.racedPaid} paid, ${outcomes.racedExpired} expired`,
      );
      // The race was run: both endings happened, and deadlines fell while payments were in flight.
      expect(outcomes.paid).toBeGreaterThan(0);
      expect(outcomes.expired).toBeGreaterThan(0);
      expect(outcomes.racedPaid + outcomes.racedExpired).toBeGreaterThan(0);
      const audit = await runAudit(new Inventory(redis), new LedgerFacts(db), dropIds);
      expect(audit.breaches).toEqual([]);
    },
    60_000 * ROUNDS,
  );
});
