import { DataSource } from 'typeorm';
import { WalletClient } from '@flashdrop/wallet-client';
import { Inventory, InventoryOrder } from '@flashdrop/inventory';
import {
  balancesOf,
  debitsOf,
  DedicatedPostgres,
  eventually,
  fanIds,
  fund,
  heldOrders,
  OwnServices,
  pay,
  paymentStormThroughKill,
  payAfterRestart,
  slotPort,
} from '@flashdrop/testing';
import { runAudit } from '@flashdrop/audit';
import { LedgerFacts } from '@flashdrop/ledger';
import { PaymentRecoveryService } from '../src/payment-recovery/payment-recovery.service';

const ORDERS = 300;
const PRICE = 1_999;
/** The wallet-only storm: enough debits at once that the wallet is killed with batches in flight. */
const BATCH_STORM_ORDERS = 400;
const BATCH_STORM_CONCURRENCY = 200;
const BATCH_STORM_KILL_AFTER = 120;
/** Orders kept out of the batch storm and paid once the wallet is back: acknowledged after it. */
const AFTER_RESTART = 20;
/** Referral rewards: referred orders (each referrer refers as many) and the reward of each. */
const REFERRED_ORDERS = 200;
const REFERRERS = 10;
const REWARD = 300;

/**
 * What must hold after the crash, the restart and the recovery job: every acknowledged payment
 * paid and debited once, nothing left `paying`, and (after the fans pay what the crash cut
 * short) every order paid exactly once with every balance exact.
 */
async function settleAndCheck(opts: {
  inventory: Inventory;
  recovery: PaymentRecoveryService;
  db: DataSource;
  baseUrl: string;
  orders: readonly InventoryOrder[];
  fans: readonly string[];
  acked: ReadonlyMap<string, unknown>;
}) {
  const { inventory, recovery, db, baseUrl, orders, fans, acked } = opts;
  const statuses = async () =>
    Promise.all(orders.map(async (o) => (await inventory.getOrder(o.id))?.status));
  // The recovery job: until nothing of ours is left half-way (payingUntil is 2 s here).
  const settled = await eventually(
    async () => {
      await recovery.recoverOnce();
      return !(await statuses()).includes('paying');
    },
    30_000,
    500,
  );
  expect(settled).toBe(true);

  const afterRecovery = await statuses();
  const debits = await debitsOf(
    db,
    orders.map((o) => o.id),
  );
  orders.forEach((o, i) => {
    const status = afterRecovery[i];
    if (acked.has(o.id)) expect(status).toBe('paid');
    if (status === 'paid') expect(debits.get(o.id)).toEqual({ count: 1, amount: PRICE });
    else {
      expect(status).toBe('held');
      expect(debits.get(o.id)).toBeUndefined();
    }
  });
  const cutShort = orders.filter((_, i) => afterRecovery[i] !== 'paid');

  // The fans whose payment the crash cut short pay again: each is charged once.
  for (const o of cutShort) expect((await pay(o.id, o.fanId, {}, baseUrl)).status).toBe(200);
  const finalDebits = await debitsOf(
    db,
    orders.map((o) => o.id),
  );
  expect(orders.filter((o) => finalDebits.get(o.id)?.count !== 1)).toEqual([]);
  const balances = await balancesOf(db, fans);
  expect(fans.filter((f) => balances.get(f) !== 2 * PRICE - PRICE)).toEqual([]);
  return { cutShort: cutShort.length, recoveredPaid: orders.length - cutShort.length - acked.size };
}

describe('payments survive kill -9', () => {
  const operatorEnv = (extra: Record<string, string>) => ({
    PAYMENT_WINDOW_MS: '2000',
    WALLET_TIMEOUT_MS: '3000',
    ...extra,
  });

  describe('of the wallet service, in the middle of a payment storm', () => {
    const own = new OwnServices({
      run: ['wallet', 'api'],
      ports: { wallet: slotPort(3398), api: slotPort(3397) },
      env: operatorEnv({}),
    });
    const baseUrl = own.apiUrl;
    let client: WalletClient;

    beforeAll(async () => {
      await own.start();
      client = own.walletClient(3000);
    }, 60_000);

    afterAll(() => own.stop());

    it('loses no acknowledged payment, doubles none, leaves nothing stuck; audit clean', async () => {
      const { redis, db } = own;
      const inventory = new Inventory(redis);
      const recovery = new PaymentRecoveryService(inventory, client);
      const fans = fanIds(ORDERS);
      const { drop, orders, acked, ...phases } = await paymentStormThroughKill({
        baseUrl,
        inventory,
        fans,
        priceMinor: PRICE,
        kill: () => own.kill9('wallet'),
        restart: () => own.restart('wallet'),
      });

      const result = await settleAndCheck({
        inventory,
        recovery,
        db,
        baseUrl,
        orders,
        fans,
        acked,
      });
      console.log(
        `wallet kill -9: ${phases.ackedInStorm} acknowledged in the storm, ` +
          `${phases.inFlightAtKill} in flight at the kill, ${phases.afterRestart} acknowledged ` +
          `after the restart, ${result.recoveredPaid} completed by recovery, ${result.cutShort} ` +
          `aborted and paid again`,
      );
      expect(result.cutShort + result.recoveredPaid).toBeGreaterThan(0);
      expect(
        (await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches,
      ).toEqual([]);
    }, 120_000);

    it('of referred orders: each reward rides with its payment, none lost with an acknowledged payment, none doubled', async () => {
      const { redis, db } = own;
      const inventory = new Inventory(redis);
      const recovery = new PaymentRecoveryService(inventory, client);
      const fans = fanIds(REFERRED_ORDERS);
      const referrers = fanIds(REFERRERS);
      const { drop, orders, acked } = await paymentStormThroughKill({
        baseUrl,
        inventory,
        fans,
        priceMinor: PRICE,
        drop: { referralRewardMinor: REWARD },
        referrerOf: (_fan, i) => referrers[i % REFERRERS],
        kill: () => own.kill9('wallet'),
        restart: () => own.restart('wallet'),
      });
      await settleAndCheck({ inventory, recovery, db, baseUrl, orders, fans, acked });

      // Every order is paid once by now; each paid exactly one reward, to its referrer.
      const rewards: { order_id: string; fan_id: string; n: string; amount: string }[] =
        await db.query(
          `SELECT order_id, min(fan_id) AS fan_id, count(*) AS n, sum(amount_minor) AS amount
           FROM wallet.transfers WHERE kind = 'referral_reward' AND order_id = ANY($1)
           GROUP BY order_id`,
          [orders.map((o) => o.id)],
        );
      const byOrder = new Map(rewards.map((r) => [r.order_id, r]));
      expect(
        orders.filter((o) => {
          const r = byOrder.get(o.id);
          return r?.n !== '1' || Number(r.amount) !== REWARD || r.fan_id !== o.referrerId;
        }),
      ).toEqual([]);
      const balances = await balancesOf(db, referrers);
      expect(referrers.map((r) => balances.get(r))).toEqual(
        referrers.map(() => (REFERRED_ORDERS / REFERRERS) * REWARD),
      );
      expect(
        (await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches,
      ).toEqual([]);
    }, 120_000);

    it('with batches in flight (debits straight to the wallet, 200 at once): none acknowledged lost, none doubled', async () => {
      const { redis, db } = own;
      const inventory = new Inventory(redis);
      const recovery = new PaymentRecoveryService(inventory, client);
      const fans = fanIds(BATCH_STORM_ORDERS);
      await fund(fans, 2 * PRICE, baseUrl);
      const { drop, orders: all } = await heldOrders(inventory, fans, { priceMinor: PRICE });
      const orders = all.slice(0, -AFTER_RESTART);
      const later = all.slice(-AFTER_RESTART);
      // The API's first step for each (held -> paying); the test then plays the API's part.
      const attempts = await Promise.all(
        orders.map(async (o) => {
          const begun = await inventory.beginPayment(o.id, { fanId: o.fanId, payingTtlMs: 2000 });
          if (!begun.ok || begun.value.payingUntil === undefined) throw new Error('not begun');
          return begun.value.payingUntil;
        }),
      );
      const stormClient = own.walletClient(3000);
      // A debit is acknowledged when the wallet answers `debited`: the order is then completed.
      const acked = new Map<string, unknown>();
      let killed = false;
      let inFlight = 0;
      let inFlightAtKill = 0;
      let restarted: Promise<void> | undefined;
      let next = 0;
      const worker = async () => {
        while (next < orders.length) {
          const i = next++;
          const o = orders[i];
          inFlight += 1;
          const reply = await stormClient
            .debit({
              orderId: o.id,
              attempt: attempts[i],
              fanId: o.fanId,
              dropId: drop.id,
              brandId: drop.brandId,
              amountMinor: PRICE,
              currency: 'CNY',
            })
            .catch(() => undefined);
          inFlight -= 1;
          if (reply?.outcome !== 'debited') continue;
          expect((await inventory.completePayment(o.id)).ok).toBe(true);
          acked.set(o.id, true);
          if (!killed && acked.size >= BATCH_STORM_KILL_AFTER) {
            killed = true;
            inFlightAtKill = inFlight;
            own.kill9('wallet');
            restarted = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() =>
              own.restart('wallet'),
            );
          }
        }
      };
      await Promise.all(Array.from({ length: BATCH_STORM_CONCURRENCY }, worker));
      await stormClient.onApplicationShutdown();
      // The kill fell in the middle: debits acknowledged before it, in flight at it, and after.
      expect(killed).toBe(true);
      expect(inFlightAtKill).toBeGreaterThan(0);
      await restarted;
      await payAfterRestart(baseUrl, later, acked);

      // The wallet did batch: some transaction wrote several fences (they share its start time).
      const perTransaction: { n: string }[] = await db.query(
        `SELECT count(*) AS n FROM wallet.payments WHERE order_id = ANY($1) GROUP BY created_at`,
        [orders.map((o) => o.id)],
      );
      expect(Math.max(...perTransaction.map((r) => Number(r.n)))).toBeGreaterThan(1);

      const result = await settleAndCheck({
        inventory,
        recovery,
        db,
        baseUrl,
        orders: all,
        fans,
        acked,
      });
      console.log(
        `wallet kill -9 with batches in flight: ${acked.size - AFTER_RESTART} acknowledged, ` +
          `${inFlightAtKill} in flight at the kill, ${AFTER_RESTART} acknowledged after the ` +
          `restart, ${result.recoveredPaid} completed by recovery, ${result.cutShort} aborted ` +
          `and paid again`,
      );
      expect(
        (await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches,
      ).toEqual([]);
    }, 150_000);
  });

  describe('of PostgreSQL (a dedicated server), in the middle of a payment storm', () => {
    const pg = new DedicatedPostgres(slotPort(5443));
    const own = new OwnServices({
      run: ['wallet', 'api'],
      ports: { wallet: slotPort(3394), api: slotPort(3393) },
      redisPort: slotPort(6394),
      // The wallet schema made afresh on the dedicated server, the way services.sh migrates it.
      database: { url: pg.url, schemas: ['wallet'] },
      env: operatorEnv({}),
    });
    const baseUrl = own.apiUrl;
    let client: WalletClient;

    beforeAll(async () => {
      pg.start();
      await own.start();
      client = own.walletClient(3000);
    }, 90_000);

    afterAll(async () => {
      await own.stop();
      pg.stop();
    }, 60_000);

    it('loses no acknowledged payment, doubles none, leaves nothing stuck; audit clean', async () => {
      const { redis } = own;
      const inventory = new Inventory(redis);
      const recovery = new PaymentRecoveryService(inventory, client);
      const fans = fanIds(ORDERS);
      const { orders, acked, ...phases } = await paymentStormThroughKill({
        baseUrl,
        inventory,
        fans,
        priceMinor: PRICE,
        kill: () => pg.kill9(),
        restart: async () => pg.start(),
      });
      // The test's own pool lost its connections with the server: a new one.
      const db = await own.reconnectDatabase();

      const result = await settleAndCheck({
        inventory,
        recovery,
        db,
        baseUrl,
        orders,
        fans,
        acked,
      });
      console.log(
        `postgres kill -9: ${phases.ackedInStorm} acknowledged in the storm, ` +
          `${phases.inFlightAtKill} in flight at the kill, ${phases.afterRestart} acknowledged ` +
          `after the restart, ${result.recoveredPaid} completed by recovery, ${result.cutShort} ` +
          `aborted and paid again`,
      );
      expect((await runAudit(new Inventory(redis), new LedgerFacts(db))).breaches).toEqual([]);
    }, 180_000);
  });
});
