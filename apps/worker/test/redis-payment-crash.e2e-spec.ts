import { DataSource } from 'typeorm';
import { runAudit } from '@flashdrop/audit';
import { Inventory, InventoryOrder } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  balancesOf,
  debitsOf,
  eventually,
  fanIds,
  heldOrders,
  killMidLoad,
  OwnServices,
  pay,
  phasesLine,
  RequestLoad,
  roundNumbers,
  slotPort,
  uniqueId,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';
import { PaymentRecoveryService } from '../src/payment-recovery/payment-recovery.service';

const ORDERS = 600;
const PRICE = 1_999;
const CONCURRENCY = 32;
const ACKS_BEFORE = 80;
const ACKS_AFTER = 30;

/**
 * Crash safety of a payment when the sale's store dies: Redis (a server of the test's own,
 * appendfsync always) is killed with `kill -9` in the middle of a storm of payments through an
 * API and a wallet of the test's own (on a database of its own), and restarted from its AOF.
 * Every order is paid by a client that retries until it is answered 200, as a phone does. The
 * kill falls in the middle (payments acknowledged before it, in flight at it, acknowledged
 * after the restart); once the recovery job has settled what the kill left `paying`, every
 * acknowledged payment is paid and debited once, no order is charged twice or charged without
 * being paid, every balance is exact and the audit of the drop is clean.
 */
describe('payments survive kill -9 of Redis (dedicated Redis, API, wallet and database)', () => {
  // Ports 37x1-37x8 and 67x1-67x3 (x = slot) are the crash tests' own: no other base is within
  // 90 of them with the same last digit, so base + 10 * slot meets no other server in any slot.
  const own = new OwnServices({
    run: ['wallet', 'api'],
    ports: { wallet: slotPort(3703), api: slotPort(3704) },
    redisPort: slotPort(6701),
    database: { fresh: 'redis_payment_crash', schemas: ['wallet'] },
    env: { PAYMENT_WINDOW_MS: '2000', WALLET_TIMEOUT_MS: '3000' },
    redisOptions: { maxRetriesPerRequest: 50 },
  });
  const redisServer = own.redisServer!;
  const baseUrl = own.apiUrl;
  let inventory: Inventory;
  let db: DataSource;
  let client: WalletClient;

  beforeAll(async () => {
    await own.start();
    inventory = new Inventory(own.redis);
    db = own.db;
    client = own.walletClient(5000);
  }, 90_000);

  afterAll(() => own.stop(), 30_000);

  /** Pays each order until it is answered 200: a refused or lost answer goes back in the queue. */
  function payments(orders: readonly InventoryOrder[]) {
    const queue = [...orders];
    return new RequestLoad<InventoryOrder>(
      async () => {
        const o = queue.shift();
        if (!o) return undefined;
        const res = await pay(o.id, o.fanId, {}, baseUrl).catch(() => undefined);
        if (res?.status === 200) return o;
        queue.push(o);
        return undefined;
      },
      CONCURRENCY,
      100,
    );
  }

  // One round in npm test; SOAK_ROUNDS of them under npm run test:soak.
  it.each(roundNumbers(1))(
    'kill -9 of Redis mid-storm: none acknowledged lost, none charged twice; audit clean (round %i)',
    async () => {
      const fans = fanIds(ORDERS);
      for (let i = 0; i < fans.length; i += 100) {
        await Promise.all(
          fans.slice(i, i + 100).map((fanId) =>
            client.credit({
              fanId,
              amountMinor: 2 * PRICE,
              currency: 'CNY',
              reference: uniqueId('topup'),
            }),
          ),
        );
      }
      const { drop, orders } = await heldOrders(inventory, fans, { priceMinor: PRICE });
      const load = payments(orders);
      const phases = await killMidLoad(
        load,
        () => redisServer.kill9(),
        async () => {
          await new Promise((r) => setTimeout(r, 300));
          redisServer.start();
        },
        { ackBefore: ACKS_BEFORE, ackAfter: ACKS_AFTER },
      );
      const acked = new Set(load.acknowledged.map((o) => o.id));
      expect(acked.size).toBe(load.acknowledged.length);

      // What the kill left half-way (begun, maybe debited, never completed) is settled by the
      // recovery job from what PostgreSQL holds (payingUntil is 2 s here).
      const recovery = new PaymentRecoveryService(inventory, client);
      const statuses = async () =>
        Promise.all(orders.map(async (o) => (await inventory.getOrder(o.id))?.status));
      expect(
        await eventually(
          async () => {
            await recovery.recoverOnce();
            return !(await statuses()).includes('paying');
          },
          30_000,
          500,
        ),
      ).toBe(true);

      const settled = await statuses();
      const debits = await debitsOf(
        db,
        orders.map((o) => o.id),
      );
      // Every acknowledged payment is paid; an order is debited once exactly when it is paid.
      expect(
        orders.filter((o, i) => acked.has(o.id) && settled[i] !== 'paid').map((o) => o.id),
      ).toEqual([]);
      const wrong = orders.filter((o, i) => {
        const d = debits.get(o.id);
        return settled[i] === 'paid'
          ? d?.count !== 1 || d.amount !== PRICE
          : settled[i] !== 'held' || d !== undefined;
      });
      expect(wrong.map((o) => o.id)).toEqual([]);
      const recovered = settled.filter((s) => s === 'paid').length - acked.size;

      // The fans whose payment the crash cut short (and those never reached) pay: charged once.
      const unpaid = orders.filter((_, i) => settled[i] !== 'paid');
      for (let i = 0; i < unpaid.length; i += 50) {
        const answers = await Promise.all(
          unpaid.slice(i, i + 50).map((o) => pay(o.id, o.fanId, {}, baseUrl)),
        );
        expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      }
      const finalDebits = await debitsOf(
        db,
        orders.map((o) => o.id),
      );
      expect(orders.filter((o) => finalDebits.get(o.id)?.count !== 1).map((o) => o.id)).toEqual([]);
      const balances = await balancesOf(db, fans);
      expect(fans.filter((f) => balances.get(f) !== PRICE)).toEqual([]);
      expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
      console.log(
        `Redis kill -9 mid-payments: ${phasesLine(phases)}; ${recovered} completed by the ` +
          `recovery job without their answer, ${unpaid.length} paid afterwards, ` +
          `${load.failures} refused or failed (retried)`,
      );
    },
    150_000,
  );
});
