import 'reflect-metadata';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { DebitRequest, SettleRequest } from '@flashdrop/contracts';
import { Inventory } from '@flashdrop/inventory';
import { LedgerRepository, migrateWallet, walletPool } from '@flashdrop/ledger';
import { createRedis } from '@flashdrop/persistence';
import {
  DedicatedRedis,
  dropDefinition,
  freshDatabase,
  redisNow,
  slotPort,
  testProfileEnv,
} from '@flashdrop/testing';
import type { WalletClient } from '@flashdrop/wallet-client';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { PaymentsService } from './payments.service';

/**
 * PaymentsService over the real scripts and the real ledger functions (the wallet's TCP hop
 * replaced by a call of the same LedgerRepository), on a Redis and a database of the test's own.
 */
describe('PaymentsService (real Redis scripts and ledger functions)', () => {
  const server = new DedicatedRedis(slotPort(6583));
  let redis: Redis;
  let db: DataSource;
  let inventory: Inventory;
  let ledger: LedgerRepository;
  let payments: PaymentsService;
  let config: FlashdropConfig;

  beforeAll(async () => {
    server.start();
    redis = createRedis(server.url);
    await redis.flushdb();
    inventory = new Inventory(redis);
    config = loadConfig(FlashdropConfig, {
      ...testProfileEnv(),
      DATABASE_URL: await freshDatabase('payments_service'),
    });
    await migrateWallet(config);
    db = walletPool(config, { applicationName: 'payments-service-test', poolSize: 2 });
    await db.initialize();
    ledger = new LedgerRepository(db);
    const wallet = {
      debit: (r: DebitRequest) => ledger.debit(r),
      settle: (r: SettleRequest) => ledger.settle(r),
    } as unknown as WalletClient;
    payments = new PaymentsService(inventory, wallet, config);
  }, 60_000);
  afterAll(async () => {
    await db?.destroy();
    redis?.disconnect();
    server.stop();
  });

  // Found by the simulation (docs/simulation.md; seed 0 while grab.lua was broken on purpose,
  // shrunk to these four steps): a payer died after the wallet declined its attempt, before it
  // put the hold back; the fan tops up and pays; joining the dead attempt answered its recorded
  // decline, INSUFFICIENT_FUNDS, to a fan who now holds enough.
  it('pays with a fresh attempt when the attempt it joined was declined before a top-up', async () => {
    const def = dropDefinition(await redisNow(redis), {
      reservationRequired: false,
      reservationOpensAt: undefined,
      reservationClosesAt: undefined,
      priceMinor: 500,
    });
    await inventory.createDrop(def);
    const fanId = `${def.id}-fan`;
    const grabbed = await inventory.grab({ dropId: def.id, fanId, quantity: 1 });
    if (!grabbed.ok) throw new Error(grabbed.code);
    const orderId = grabbed.order.id;

    // The dead payer: held -> paying, declined (no money), killed before abort_payment.
    const begun = await inventory.beginPayment(orderId, { fanId, payingTtlMs: 60_000 });
    if (!begun.ok) throw new Error(begun.code);
    const attempt = begun.value.payingUntil!;
    const declined = await ledger.debit({
      orderId,
      attempt,
      fanId,
      dropId: def.id,
      brandId: def.brandId,
      amountMinor: 500,
      currency: def.currency,
    });
    expect(declined.outcome).toBe('declined');

    await ledger.credit({ fanId, amountMinor: 500, currency: def.currency, reference: orderId });
    const paid = await payments.pay(orderId, fanId);

    expect(paid.status).toBe('paid');
    expect(await ledger.balance(fanId, def.currency)).toBe(0);
    const order = await inventory.getOrder(orderId);
    expect(order?.status).toBe('paid');
    expect(order?.payingUntil).not.toBe(attempt);
    // The dead attempt can never debit, even with money there again.
    await ledger.credit({ fanId, amountMinor: 500, currency: def.currency, reference: fanId });
    const replayed = await ledger.debit({
      orderId,
      attempt,
      fanId,
      dropId: def.id,
      brandId: def.brandId,
      amountMinor: 500,
      currency: def.currency,
    });
    expect(replayed.outcome).not.toBe('debited');
    expect(await ledger.balance(fanId, def.currency)).toBe(500);
  }, 60_000);
});
