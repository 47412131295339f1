/**
 * A small, bounded measurement of checkout throughput on a running stack (the environment's
 * REDIS_URL, WALLET_PORT, API_PORT, JWT_SECRET, as the services read them):
 *   1. credits/s and debits/s of the wallet alone (TCP, CONCURRENCY in flight);
 *   2. payments/s through the public API (POST /v1/orders/:id/payment, CONCURRENCY in flight),
 *      each a full checkout: begin_payment, the wallet's debit, complete_payment.
 * Usage: node -r ts-node/register/transpile-only -r tsconfig-paths/register \
 *          load-tests/profile/measure-payments.ts [orders=3000]
 * Orders are made straight in Redis with the grab script, on a drop of their own (the stack's
 * worker persists and relays them as it would any drop's: that is part of what a payment costs).
 * Around each phase it prints the CPU time per operation of every process of the stack (pid
 * files in MEASURE_RUN_DIR, default $FLASHDROP_DATA_DIR/run/test-$TEST_SLOT), of Redis and of
 * PostgreSQL (load-tests/profile/process-cpu.ts): the figure that the machine's other load barely moves.
 */
import { Agent, request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { signToken } from '@flashdrop/auth';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { WalletClient } from '@flashdrop/wallet-client';
import { Inventory, InventoryOrder, newDropId } from '@flashdrop/inventory';
import { createRedis } from '@flashdrop/persistence';
import { join } from 'node:path';
import { ProcessCpu } from './process-cpu';

const CONCURRENCY = 64;
const PRICE = 1_999;

async function pool<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function post(agent: Agent, port: number, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 3000);
  const config = loadConfig(FlashdropConfig);
  const redis = createRedis(config.REDIS_URL);
  const inventory = new Inventory(redis);
  const wallet = new WalletClient({
    host: config.WALLET_HOST,
    port: config.WALLET_PORT,
    timeoutMs: 30_000,
  });
  const runDir =
    process.env.MEASURE_RUN_DIR ??
    join(process.env.FLASHDROP_DATA_DIR ?? '.data', 'run', `test-${process.env.TEST_SLOT ?? '0'}`);
  const cpu = await ProcessCpu.open(runDir, redis, config.DATABASE_URL);
  const measured = async (what: string, count: number, phase: () => Promise<number>) => {
    const before = await cpu.snapshot();
    const secs = await phase();
    const after = await cpu.snapshot();
    cpuLines.push(`${what}: CPU per operation`, ...ProcessCpu.report(before, after, count));
    return secs;
  };
  const cpuLines: string[] = [];
  const run = randomUUID().slice(0, 8);
  const fans = Array.from({ length: 2 * n }, (_, i) => `bench-${run}-${i}`);

  const creditSecs = await measured('credits (wallet, TCP)', fans.length, () =>
    pool(fans, async (fanId) => {
      await wallet.credit({
        fanId,
        amountMinor: PRICE,
        currency: 'CNY',
        reference: `${fanId}-topup`,
      });
    }),
  );

  const now = await inventory.now();
  const dropId = newDropId();
  await inventory.createDrop({
    id: dropId,
    brandId: `brand-${run}`,
    title: 'measure',
    sku: 'MEASURE',
    priceMinor: PRICE,
    currency: 'CNY',
    quantity: 2 * n,
    perUserLimit: 1,
    reservationRequired: false,
    saleStartsAt: now - 1000,
    holdSeconds: 600,
    allocation: 'first_come',
    paused: false,
    cancelled: false,
    createdAt: now - 2000,
    version: 1,
  });
  const orders: InventoryOrder[] = [];
  await pool(fans, async (fanId) => {
    const r = await inventory.grab({ dropId, fanId, quantity: 1 });
    if (!r.ok) throw new Error(r.code);
    orders.push(r.order);
  });
  const [direct, viaApi] = [orders.slice(0, n), orders.slice(n)];

  // The wallet alone: the debit transaction over TCP (no Redis steps).
  const debitSecs = await measured('debits (wallet, TCP)', direct.length, () =>
    pool(direct, async (o) => {
      const r = await wallet.debit({
        orderId: o.id,
        attempt: 1,
        fanId: o.fanId,
        dropId,
        brandId: `brand-${run}`,
        amountMinor: PRICE,
        currency: 'CNY',
      });
      if (r.outcome !== 'debited') throw new Error(r.outcome);
    }),
  );
  for (const o of direct) await inventory.completePayment(o.id);

  // Through the public API: the whole checkout.
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const tokens = new Map(
    viaApi.map((o) => [o.id, signToken(config.JWT_SECRET, { sub: o.fanId, role: 'fan' })]),
  );
  let failed = 0;
  const paySecs = await measured('payments (HTTP, full flow)', viaApi.length, () =>
    pool(viaApi, async (o) => {
      const status = await post(
        agent,
        config.API_PORT,
        `/v1/orders/${o.id}/payment`,
        tokens.get(o.id)!,
      );
      if (status !== 200) failed++;
    }),
  );
  // What the stack burns with nothing to do (relays polling, sweepers): per second, not per op.
  await measured('idle 3 s (per second, not per operation)', 3, async () => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return 3;
  });

  const rate = (count: number, secs: number) => `${(count / secs).toFixed(0)}/s`;
  console.log(
    `credits (wallet, TCP):      ${2 * n} in ${creditSecs.toFixed(2)} s = ${rate(2 * n, creditSecs)}`,
  );
  console.log(
    `debits (wallet, TCP):       ${n} in ${debitSecs.toFixed(2)} s = ${rate(n, debitSecs)}`,
  );
  console.log(
    `payments (HTTP, full flow): ${n} in ${paySecs.toFixed(2)} s = ${rate(n, paySecs)}, ${failed} not 200`,
  );
  console.log(`50,000 phone orders at that rate: ${((50_000 * paySecs) / n).toFixed(1)} s`);
  for (const line of cpuLines) console.log(line);
  await cpu.close();
  agent.destroy();
  await wallet.onApplicationShutdown();
  redis.disconnect();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
