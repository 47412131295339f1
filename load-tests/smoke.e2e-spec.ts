import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { apiBaseUrl, dropKeys, eventually, testConfig } from '@flashdrop/testing';
import { RunContext } from './runner/context';
import { runPayments } from './runner/run-payments';
import { runPhone } from './runner/run-phone';
import { runReservationWave, waveTokens } from './runner/run-reservations';
import { fanTokens, stats, tokenOf } from './runner/stack';

// The benchmark's scenarios at 1/1000 scale against the test stack, through the same runner
// code `npm run bench` uses: correctness only (answers, counts, the stored truth), no timing.
describe('load scenarios (smoke, small scale)', () => {
  const config = testConfig();
  const stack = { origin: apiBaseUrl(), jwtSecret: config.JWT_SECRET };
  const run = `smoke${Date.now().toString(36)}`;
  let redis: RedisClient;
  let ctx: RunContext;

  beforeAll(() => {
    redis = connectRedis(config);
    ctx = { stack, redis, run, log: () => undefined };
  });
  afterAll(() => redis.disconnect());

  it('reservation wave: every distinct fan reserved once, memory per reservation measured', async () => {
    const wave = await runReservationWave(ctx, waveTokens(ctx, 300), 30);
    expect(wave.reserved).toBe(300);
    expect(wave.drive.failures).toBe(0);
    expect(wave.drive.statuses).toEqual({ 201: 300 });
    // The figure is Redis's own count of the reservation keys' bytes over the count: at least
    // the fan ids a reservation stores, and far below a kilobyte (a wrong key pattern reads 0,
    // a wrong divisor or a leak reads more).
    const fanIds = await redis.hkeys(dropKeys(wave.dropId).reservations);
    expect(fanIds).toHaveLength(300);
    const idBytes = fanIds.reduce((sum, id) => sum + Buffer.byteLength(id), 0) / fanIds.length;
    expect(wave.bytesPerReservation).toBeGreaterThan(idBytes);
    expect(wave.bytesPerReservation).toBeLessThan(1024);
  }, 60_000);

  it('phone rush: 240 reserved fans at the start instant take exactly 50 units, the rest SOLD_OUT, and the winners pay', async () => {
    const tokens = fanTokens(stack, run, 240);
    const phone = await runPhone(ctx, tokens, 50, 2_000, 30);
    expect(phone.reservedOk).toBe(240);
    expect(phone.rush.held).toBe(50);
    expect(phone.rush.soldOut).toBe(190);
    expect(phone.rush.errors).toBe(0);
    expect(new Set(phone.rush.winners.map((w) => w.fan)).size).toBe(50);
    expect(phone.stats?.held).toBe(50);
    expect(phone.stats?.remaining).toBe(0);

    const paid = await runPayments(ctx, run, phone.rush.winners, tokens, 30);
    expect(paid.credits.statuses).toEqual({ 201: 50 });
    expect(paid.paid).toBe(50);
    // The stats are analytics' view: they follow the stored truth once the pipeline drained.
    const brand = tokenOf(stack, `brand-${run}`, 'brand');
    const read = () => stats(stack, brand, phone.dropId);
    await eventually(async () => (await read()).paid === 50, 30_000);
    const after = await read();
    expect(after.paid).toBe(50);
    expect(after.held).toBe(0);
    expect(after.reservations).toBe(240);
  }, 90_000);
});
