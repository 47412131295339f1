import Redis from 'ioredis';
import { join } from 'node:path';
import { DedicatedRedis, slotPort, testConfig, testProfileEnv } from '@flashdrop/testing';
import { PeerProcess } from './runner/processes';
import { runFloor, runHello, runNaive } from './runner/run-peers';
import { fanTokens, Stack } from './runner/stack';
import { RunContext } from './runner/context';

// The benchmark's peers at a small scale: they must answer like the stack (201 held, then 409
// SOLD_OUT) and never sell above stock, or their figures compare nothing. No timing asserted.
describe('benchmark peers (smoke)', () => {
  const redisServer = new DedicatedRedis(slotPort(6481));
  const env = testProfileEnv();
  const logDir = process.env.FLASHDROP_DATA_DIR ?? '/tmp';
  const floor = new PeerProcess(
    'floor',
    slotPort(3481),
    { REDIS_URL: `${redisServer.url}/0` },
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
  }, 60_000);

  afterAll(async () => {
    await Promise.all([floor.stop(), naive.stop(), hello.stop()]);
    redis?.disconnect();
    redisServer.stop();
  });

  it('the floor sells exactly its stock to distinct reserved fans through the same Lua grab', async () => {
    const ctx: RunContext = { stack, redis, run, log: () => undefined };
    const tokens = fanTokens(stack, run, 240);
    const result = await runFloor(ctx, floor, redis, run, tokens, 50, 20);
    expect(result.held).toBe(50);
    expect(result.soldOut).toBe(190);
    expect(result.errors).toBe(0);
    expect(new Set(result.winners.map((w) => w.fan)).size).toBe(50);
    expect(result.winners.every((w) => w.orderId.length > 0)).toBe(true);
  }, 60_000);

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
