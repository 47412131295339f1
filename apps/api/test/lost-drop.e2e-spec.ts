import { Inventory } from '@flashdrop/inventory';
import type { RedisClient } from '@flashdrop/persistence';
import {
  api,
  auditWithRecords,
  closeStackConnections,
  createDrop,
  DropBody,
  dropBody,
  dropKeys,
  eventually,
  getDrop,
  grabVia,
  isoIn,
  loseDrop,
  openStackConnections,
  OrderBody,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { DataSource } from 'typeorm';

interface DrawBody {
  seedCommitment?: string;
  seed?: string;
  winners?: string[];
  drawnAt?: string;
}

/**
 * A drop Redis lost comes back with its fans' standing, as far as PostgreSQL proves it
 * (issue 11: reservations, the waitlist, the draw), or paused when it cannot come back whole
 * enough to reopen; the audit names what was lost. Through the running stack (its worker runs
 * the draws and persists the orders).
 */
describe('a drop Redis lost comes back with its standing, or paused', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => {
    ({ redis, inventory, db } = await openStackConnections());
  });
  afterAll(async () => closeStackConnections({ redis, inventory, db }));

  const storedOrders = async (dropId: string) =>
    (await db.query('SELECT id, fan_id, status FROM sales.orders WHERE drop_id = $1', [
      dropId,
    ])) as { id: string; fan_id: string; status: string }[];
  const audit = (dropId: string) => auditWithRecords({ inventory, db }, [dropId]);
  const reserve = (dropId: string, fan: string) =>
    api('POST', `/v1/drops/${dropId}/reservations`, { token: tokenFor('fan', fan), body: {} });
  const until = (at: string) =>
    new Promise((r) => setTimeout(r, Math.max(0, Date.parse(at) - Date.now() + 300)));

  it('a reservation drop lost after its window closed: fans with an order keep their reservation; the others are lost, so it comes back paused, and the audit says so', async () => {
    const brand = tokenFor('brand', uniqueId('brand'));
    const body = dropBody({
      quantity: 10,
      perUserLimit: 2,
      reservationClosesAt: isoIn(6_000),
      saleStartsAt: isoIn(6_500),
      saleEndsAt: isoIn(3_600_000),
    });
    const drop = await createDrop(body, brand);
    const [a, b] = [uniqueId('fan'), uniqueId('fan')];
    for (const fan of [a, b]) expect((await reserve(drop.id, fan)).status).toBe(201);
    await until(body.saleStartsAt as string);
    const first = await grabVia(drop.id, tokenFor('fan', a));
    expect(first.status).toBe(201);
    expect(
      await eventually(async () => (await storedOrders(drop.id)).length === 1, 20_000, 200),
    ).toBe(true);

    await loseDrop(redis, drop.id);
    const rebuilt = await getDrop(drop.id);
    expect(rebuilt).toMatchObject({ phase: 'paused', remaining: 9 });
    const [row] = (await db.query('SELECT paused FROM sales.drops WHERE id = $1', [drop.id])) as {
      paused: boolean;
    }[];
    expect(row.paused).toBe(true);
    const k = dropKeys(drop.id);
    // a's order proves a's reservation; nothing stored proves b's.
    expect(await redis.hexists(k.reservations, a)).toBe(1);
    expect(await redis.hexists(k.reservations, b)).toBe(0);

    // Paused: b's grab is refused and writes nothing.
    const refused = await grabVia(drop.id, tokenFor('fan', b));
    expect(refused.body).toMatchObject({ error: 'SALE_PAUSED' });
    expect(await redis.get(k.stock)).toBe('9');
    expect(await redis.hexists(k.fans, b)).toBe(0);
    expect(await redis.exists(k.fanOrders(b))).toBe(0);

    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
    expect(report.notices).toEqual([
      {
        subject: `drop ${drop.id}`,
        message: expect.stringMatching(/not rebuilt: reservations, waitlist \(paused since/),
      },
    ]);

    // An operator resumes it, accepting the loss: a keeps the right to buy, b must not.
    const resumed = await api('POST', `/v1/drops/${drop.id}/resume`, { token: brand });
    expect(resumed.status).toBe(200);
    expect((await grabVia(drop.id, tokenFor('fan', a))).status).toBe(201);
    expect((await grabVia(drop.id, tokenFor('fan', b))).body).toMatchObject({
      error: 'NOT_RESERVED',
    });
    expect((await getDrop(drop.id)).remaining).toBe(8);
  }, 60_000);

  it('a drawn draw lost: its record and its line come back; a released unit goes to the first in line; nothing lost', async () => {
    const body = dropBody({
      allocation: 'draw',
      quantity: 2,
      perUserLimit: 1,
      holdSeconds: 600,
      reservationClosesAt: isoIn(8_000),
      saleStartsAt: isoIn(8_500),
      saleEndsAt: isoIn(3_600_000),
    });
    const drop = await createDrop(body);
    const fans = Array.from({ length: 6 }, () => uniqueId('fan'));
    for (const fan of fans) expect((await reserve(drop.id, fan)).status).toBe(201);
    const draw = async () => (await api<DrawBody>('GET', `/v1/drops/${drop.id}/draw`)).body;
    expect(await eventually(async () => (await draw()).drawnAt !== undefined, 40_000)).toBe(true);
    const before = await draw();
    expect(before.winners).toHaveLength(2);
    expect(
      await eventually(async () => (await storedOrders(drop.id)).length === 2, 20_000, 200),
    ).toBe(true);
    const k = dropKeys(drop.id);
    const lineBefore = await redis.zrange(k.waitlist, 0, -1, 'WITHSCORES');
    expect(lineBefore).toHaveLength(8);
    const drawBefore = await redis.hgetall(k.draw);

    await loseDrop(redis, drop.id);
    expect(await getDrop(drop.id)).toMatchObject({ remaining: 0 });
    expect((await getDrop(drop.id)).phase).not.toBe('paused');
    // The same record (seed, commitment, steps done, drawnAt) and the same line, by rank.
    expect(await redis.hgetall(k.draw)).toEqual(drawBefore);
    expect(await redis.zrange(k.waitlist, 0, -1, 'WITHSCORES')).toEqual(lineBefore);
    for (const fan of fans) expect(await redis.hexists(k.reservations, fan)).toBe(1);
    expect(await draw()).toEqual(before);

    // A winner cancels: the unit goes down the rebuilt line, to its first fan.
    const winner = before.winners![0];
    const [winnerOrder] = (await storedOrders(drop.id)).filter((o) => o.fan_id === winner);
    const cancel = await api('POST', `/v1/orders/${winnerOrder.id}/cancel`, {
      token: tokenFor('fan', winner),
    });
    expect(cancel.status).toBe(200);
    const firstInLine = lineBefore[0];
    const ordersOf = async (fan: string) =>
      (await api<OrderBody[]>('GET', '/v1/orders', { token: tokenFor('fan', fan) })).body.filter(
        (o) => o.dropId === drop.id,
      );
    expect(await eventually(async () => (await ordersOf(firstInLine)).length === 1, 10_000)).toBe(
      true,
    );
    expect((await ordersOf(firstInLine))[0]).toMatchObject({ status: 'held' });
    expect(await redis.zscore(k.waitlist, firstInLine)).toBeNull();

    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
    expect(report.notices).toEqual([
      { subject: `drop ${drop.id}`, message: expect.stringMatching(/came back whole/) },
    ]);
  }, 90_000);

  it('a committed draw lost before it was drawn: the commitment stays the one (no second seed), the seed is lost, the drop comes back paused', async () => {
    const body = dropBody({
      allocation: 'draw',
      quantity: 1,
      reservationClosesAt: isoIn(6_000),
      saleStartsAt: isoIn(3_600_000),
    });
    const drop: DropBody = await createDrop(body);
    for (const fan of [uniqueId('fan'), uniqueId('fan')]) {
      expect((await reserve(drop.id, fan)).status).toBe(201);
    }
    const draw = async () => (await api<DrawBody>('GET', `/v1/drops/${drop.id}/draw`)).body;
    expect(await eventually(async () => (await draw()).seedCommitment !== undefined, 30_000)).toBe(
      true,
    );
    const committed = (await draw()).seedCommitment;

    await loseDrop(redis, drop.id);
    expect(await getDrop(drop.id)).toMatchObject({ phase: 'paused' });
    const k = dropKeys(drop.id);
    expect(await redis.hget(k.draw, 'seedCommitment')).toBe(committed);
    expect(await redis.hexists(k.draw, 'seed')).toBe(0);
    // The worker's draw runner passes over it again and again: it commits no second seed.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await redis.hget(k.draw, 'seedCommitment')).toBe(committed);
    expect((await draw()).seedCommitment).toBe(committed);
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
    expect(report.notices[0]?.message).toMatch(/not rebuilt: draw seed \(paused since/);
  }, 60_000);
});
