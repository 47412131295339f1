import Redis from 'ioredis';
import { join } from 'node:path';
import { Pool } from 'pg';
import { Inventory } from '@flashdrop/inventory';
import { DedicatedRedis, slotPort, testConfig, testProfileEnv } from '@flashdrop/testing';
import { generatorBinary, GeneratorName } from './runner/drivers/generators';
import { PeerProcess } from './runner/processes';
import { runPayments } from './runner/run-payments';
import { runFloor, runHello, runNaive } from './runner/run-peers';
import { RushResult } from './runner/run-phone';
import { runReservationFloor } from './runner/run-reservations';
import { runSteadyFloor } from './runner/run-steady';
import { fanTokens, Stack } from './runner/stack';
import { RunContext } from './runner/context';

/** Every generator installed here (load-tests/generators/install.sh; npm test runs it). */
const closedLoop: GeneratorName[] = generatorBinary('wrk') ? ['wrk', 'autocannon'] : ['autocannon'];
const openModel: GeneratorName[] = generatorBinary('vegeta')
  ? ['vegeta', 'autocannon']
  : ['autocannon'];

// The benchmark's peers at a small scale, driven by every installed generator: they must
// answer like the stack (201 held, then 409 SOLD_OUT), never sell above stock, and each
// generator must send every request exactly once, or their figures compare nothing. No timing
// is asserted.
describe('benchmark peers (smoke)', () => {
  const redisServer = new DedicatedRedis(slotPort(6481));
  const env = testProfileEnv();
  const logDir = process.env.FLASHDROP_DATA_DIR ?? '/tmp';
  const floor = new PeerProcess(
    'floor',
    slotPort(3481),
    // The payment floor's own database, beside this slot's test database.
    { REDIS_URL: `${redisServer.url}/0`, FLOOR_DATABASE_URL: `${env.DATABASE_URL}_floor` },
    join(logDir, `peer-floor-${process.pid}.log`),
  );
  const naive = new PeerProcess(
    'naive',
    slotPort(3482),
    { DATABASE_URL: env.DATABASE_URL },
    join(logDir, `peer-naive-${process.pid}.log`),
  );
  const hello = new PeerProcess(
    'hello',
    slotPort(3483),
    {},
    join(logDir, `peer-hello-${process.pid}.log`),
  );
  let redis: Redis;
  const stack: Stack = { origin: 'http://127.0.0.1:1', jwtSecret: testConfig().JWT_SECRET };
  const run = `smoke${Date.now().toString(36)}`;

  beforeAll(async () => {
    redisServer.start();
    redis = new Redis(`${redisServer.url}/0`, { enableAutoPipelining: true });
    // The test's own server: what an earlier run left there is of no interest.
    await redis.flushdb();
    await Promise.all([floor.start(), naive.start(), hello.start('/')]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([floor.stop(), naive.stop(), hello.stop()]);
    redis?.disconnect();
    redisServer.stop();
  });

  const rushes = new Map<GeneratorName, RushResult>();

  it.each(closedLoop)(
    'the floor sells exactly its stock to distinct reserved fans through the same Lua grab (%s)',
    async (generator) => {
      process.env.BENCH_GENERATOR = generator === 'autocannon' ? 'autocannon' : '';
      try {
        const ctx: RunContext = { stack, redis, run: `${run}${generator}`, log: () => undefined };
        const tokens = fanTokens(stack, ctx.run, 240);
        const result = await runFloor(ctx, floor, redis, ctx.run, tokens, 50, 20);
        // Each fan grabbed once: a second grab of a winner would be refused with another code.
        expect(result.drive.requested).toBe(240);
        expect(result.drive.answered).toBe(240);
        expect(result.drive.statuses).toEqual({ 201: 50, 409: 190 });
        expect(result.drive.codes).toEqual({ SOLD_OUT: 190 });
        expect(result.drive.generator.name).toBe(generator);
        expect(result.held).toBe(50);
        expect(result.soldOut).toBe(190);
        expect(result.errors).toBe(0);
        expect(new Set(result.winners.map((w) => w.fan)).size).toBe(50);
        expect(result.winners.every((w) => w.orderId.length > 0 && w.fan >= 0)).toBe(true);
        expect(result.sellOutSeconds).toBeGreaterThan(0);
        rushes.set(generator, result);
      } finally {
        delete process.env.BENCH_GENERATOR;
      }
    },
    60_000,
  );

  it('the reservation floor stores each distinct fan once through the same reserve script', async () => {
    const ctx: RunContext = { stack, redis, run: `${run}r`, log: () => undefined };
    const tokens = fanTokens(stack, ctx.run, 300);
    const wave = await runReservationFloor(ctx, floor, redis, tokens, 20);
    expect(wave.reserved).toBe(300);
    expect(wave.drive.statuses).toEqual({ 201: 300 });
    expect(wave.bytesPerReservation).toBeGreaterThan(0);
  }, 60_000);

  it('the payment floor credits and pays each winner once: held -> paid, one debit each, the ledger balanced', async () => {
    const rush = rushes.get(closedLoop[0]);
    if (!rush) throw new Error('the floor rush did not run');
    const ctx: RunContext = { stack, redis, run: `${run}${closedLoop[0]}`, log: () => undefined };
    const tokens = fanTokens(stack, ctx.run, 240);
    const paid = await runPayments(ctx, ctx.run, rush.winners, tokens, 20, floor.origin);
    expect(paid.credits.statuses).toEqual({ 201: 50 });
    expect(paid.pay.statuses).toEqual({ 200: 50 });
    expect(paid.paid).toBe(50);
    const inventory = new Inventory(redis);
    const orders = await Promise.all(rush.winners.map((w) => inventory.getOrder(w.orderId)));
    expect(orders.map((o) => o?.status)).toEqual(rush.winners.map(() => 'paid'));
    const db = new Pool({ connectionString: `${env.DATABASE_URL}_floor`, max: 1 });
    try {
      const debits = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM wallet.payments WHERE status = 'debited'`,
      );
      expect(Number(debits.rows[0].n)).toBe(50);
      const balance = await db.query<{ sum: string }>(
        'SELECT coalesce(sum(amount_minor), 0) AS sum FROM wallet.entries',
      );
      expect(Number(balance.rows[0].sum)).toBe(0);
    } finally {
      await db.end();
    }
  }, 60_000);

  it.each(openModel)(
    'a steady open-model run answers every request once at the rate (%s)',
    async (generator) => {
      process.env.BENCH_GENERATOR = generator === 'autocannon' ? 'autocannon' : '';
      try {
        const ctx: RunContext = { stack, redis, run: `${run}s${generator}`, log: () => undefined };
        const tokens = fanTokens(stack, ctx.run, 2_000);
        // 200/s for phoneRush.steady.seconds (10 s): 2,000 fans, the phone's mix of units.
        const result = await runSteadyFloor(ctx, floor, redis, tokens, 200);
        expect(result.drive.generator.name).toBe(generator);
        expect(result.drive.answered).toBe(2_000);
        expect(result.errors).toBe(0);
        expect(result.held).toBe(result.quantity);
        expect(result.held + result.soldOut).toBe(2_000);
        expect(result.drive.latencyMs.p99).toBeGreaterThanOrEqual(result.drive.latencyMs.p50);
        expect(result.drive.latencyMs.p50).toBeGreaterThan(0);
      } finally {
        delete process.env.BENCH_GENERATOR;
      }
    },
    60_000,
  );

  it('the naive peer sells exactly its one row of stock', async () => {
    const tokens = fanTokens(stack, run, 240);
    const result = await runNaive(naive, tokens, 50, 20);
    expect(result.held).toBe(50);
    expect(result.soldOut).toBe(190);
    expect(result.errors).toBe(0);
    expect(result.remaining).toBe(0);
  }, 60_000);

  it('the hello-world ceiling answers', async () => {
    const result = await runHello(hello, 0.5);
    expect(result.answered).toBeGreaterThan(0);
    expect(result.failures).toBe(0);
  }, 30_000);
});
