import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { loadConfig, FlashdropConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import { migrateWallet } from '@flashdrop/ledger';
import { createRedis } from '@flashdrop/persistence';
import {
  balancesOf,
  debitsOf,
  DedicatedRedis,
  dropKeys,
  eventually,
  fanIds,
  freshDatabase,
  heldOrders,
  moveHoldDeadline,
  portOpen,
  ServiceProcess,
  slotPort,
  testDatabase,
  testProfileEnv,
  uniqueId,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';
import { PaymentRecoveryService } from '../src/payment-recovery/payment-recovery.service';

const PRICE = 1_999;

/**
 * The recovery job on each half-way state a crash can leave (apps/wallet/PAYMENTS.md), made
 * deterministically: debited but never completed; begun but never debited, with a debit still on
 * its way that must find the fence. On a Redis, a database and a wallet of the test's own: the
 * stack's own recovery job must not settle these orders before this test does, and what it
 * debits stays out of the stack's ledger (and of the audit after the run).
 */
describe('payment recovery', () => {
  const redisServer = new DedicatedRedis(slotPort(6392));
  const walletPort = slotPort(3392);
  let walletProcess: ServiceProcess;
  let redis: Redis;
  let inventory: Inventory;
  let db: DataSource;
  let wallet: WalletClient;
  let recovery: PaymentRecoveryService;

  beforeAll(async () => {
    redisServer.start();
    const databaseUrl = await freshDatabase('recovery');
    await migrateWallet(
      loadConfig(FlashdropConfig, { ...testProfileEnv(), DATABASE_URL: databaseUrl }),
    );
    walletProcess = new ServiceProcess('wallet', {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisServer.url,
      WALLET_PORT: String(walletPort),
    });
    walletProcess.start();
    expect(await eventually(() => portOpen(walletPort), 20_000)).toBe(true);
    redis = createRedis(redisServer.url);
    inventory = new Inventory(redis);
    db = await testDatabase(databaseUrl);
    wallet = new WalletClient({ host: '127.0.0.1', port: walletPort, timeoutMs: 3000 });
    recovery = new PaymentRecoveryService(inventory, wallet);
  }, 60_000);
  afterAll(async () => {
    await wallet?.onApplicationShutdown();
    await walletProcess?.stop();
    await db?.destroy();
    redis?.disconnect();
    redisServer.stop();
  });

  const fund = (fanId: string, amountMinor: number) =>
    wallet.credit({ fanId, amountMinor, currency: 'CNY', reference: uniqueId('topup') });

  /** begin_payment with a fence that has already lapsed, as after a crash. */
  async function stalePaying(fanFunds: number) {
    const [fan] = fanIds(1);
    if (fanFunds > 0) await fund(fan, fanFunds);
    const { drop, orders } = await heldOrders(inventory, [fan], { priceMinor: PRICE });
    const begun = await inventory.beginPayment(orders[0].id, { fanId: fan, payingTtlMs: 1 });
    if (!begun.ok || begun.value.payingUntil === undefined) throw new Error('not paying');
    await new Promise((r) => setTimeout(r, 5));
    const debit = {
      orderId: orders[0].id,
      attempt: begun.value.payingUntil,
      fanId: fan,
      dropId: drop.id,
      brandId: drop.brandId,
      amountMinor: PRICE,
      currency: 'CNY',
    };
    return { fan, drop, order: begun.value, debit };
  }

  it('completes an order debited before the crash (the API died before complete_payment)', async () => {
    const { fan, order, debit } = await stalePaying(5_000);
    expect((await wallet.debit(debit)).outcome).toBe('debited');
    expect(await recovery.settle([order.id])).toEqual({ completed: 1, aborted: 0, failed: 0 });
    expect((await inventory.getOrder(order.id))?.status).toBe('paid');
    expect((await debitsOf(db, [order.id])).get(order.id)?.count).toBe(1);
    expect((await balancesOf(db, [fan])).get(fan)).toBe(5_000 - PRICE);
  });

  it('voids an attempt never debited; a late debit for it then moves nothing', async () => {
    const { fan, drop, order, debit } = await stalePaying(5_000);
    await moveHoldDeadline(redis, order.id, (await inventory.now()) - 1);
    expect(await recovery.settle([order.id])).toEqual({ completed: 0, aborted: 1, failed: 0 });
    expect((await inventory.getOrder(order.id))?.status).toBe('expired');
    expect(await redis.get(dropKeys(drop.id).stock)).toBe('1');
    // The debit that was on its way when the API died arrives now: fenced off.
    expect(await wallet.debit(debit)).toMatchObject({ outcome: 'voided' });
    expect((await debitsOf(db, [order.id])).size).toBe(0);
    expect((await balancesOf(db, [fan])).get(fan)).toBe(5_000);
  });

  it('puts a hold whose deadline is ahead back to held, and the fan can pay it again', async () => {
    const { fan, order } = await stalePaying(5_000);
    expect(await recovery.settle([order.id])).toEqual({ completed: 0, aborted: 1, failed: 0 });
    expect((await inventory.getOrder(order.id))?.status).toBe('held');
    const again = await inventory.beginPayment(order.id, { fanId: fan, payingTtlMs: 60_000 });
    if (!again.ok || again.value.payingUntil === undefined) throw new Error('not paying');
    const outcome = await wallet.debit({
      orderId: order.id,
      attempt: again.value.payingUntil,
      fanId: fan,
      dropId: order.dropId,
      brandId: 'brand-x',
      amountMinor: PRICE,
      currency: 'CNY',
    });
    expect(outcome.outcome).toBe('debited');
    expect((await inventory.completePayment(order.id)).ok).toBe(true);
  });

  it('leaves alone a paying order whose fence has not lapsed', async () => {
    const [fan] = fanIds(1);
    const { orders } = await heldOrders(inventory, [fan]);
    const begun = await inventory.beginPayment(orders[0].id, { fanId: fan, payingTtlMs: 60_000 });
    expect(await recovery.settle([orders[0].id])).toEqual({ completed: 0, aborted: 0, failed: 0 });
    expect((await inventory.getOrder(orders[0].id))?.status).toBe('paying');
    if (begun.ok) await inventory.abortPayment(orders[0].id, begun.value.payingUntil!);
  });
});
