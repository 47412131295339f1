import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  api,
  ApiBehindProxy,
  closeStackConnections,
  createDrop,
  dropBody,
  DropBody,
  DROPS_INDEX_KEY,
  dropKeys,
  eventually,
  fund,
  getDrop,
  grabVia,
  isoIn,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  loseDrop,
  retireDrop,
  scriptOnTheWire,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import type { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';

/**
 * The order of the durable and the live writes of a drop (PostgreSQL `sales.drops` and
 * `sales.orders` are the stored truth; Redis is the sale's live copy), through the running
 * stack: an edit is written to PostgreSQL first and a failure on either side leaves the two
 * repairable; a record Redis holds badly never breaks a list; a drop Redis lost is rebuilt
 * from PostgreSQL with what was sold still out of stock.
 */
describe('writes in the right order, repaired on the next read', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  const brand = () => {
    const id = uniqueId('brand');
    return { id, token: tokenFor('brand', id) };
  };
  const futureDrop = (overrides: Record<string, unknown> = {}) =>
    dropBody({
      reservationOpensAt: isoIn(3_600_000),
      reservationClosesAt: isoIn(7_200_000),
      saleStartsAt: isoIn(7_200_000),
      ...overrides,
    });
  const mirrored = async (dropId: string) => redis.hgetall(dropKeys(dropId).drop);
  const stock = async (dropId: string) => Number(await redis.get(dropKeys(dropId).stock));
  const storedQuantity = async (dropId: string) =>
    Number(
      (
        (await db.query('SELECT quantity FROM sales.drops WHERE id = $1', [dropId])) as {
          quantity: number;
        }[]
      )[0].quantity,
    );

  describe('PATCH: PostgreSQL first, then Redis', () => {
    it('an update PostgreSQL refuses leaves Redis as it was', async () => {
      const owner = brand();
      const drop = await createDrop(futureDrop(), owner.token);
      // A real refusal by the database, for this one drop: a trigger that raises on its UPDATE.
      const fn = `sales.refuse_update_${drop.id}`;
      await db.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await db.query(`CREATE TRIGGER refuse_${drop.id} BEFORE UPDATE ON sales.drops
        FOR EACH ROW WHEN (NEW.id = '${drop.id}') EXECUTE FUNCTION ${fn}()`);
      try {
        const res = await api('PATCH', `/v1/drops/${drop.id}`, {
          token: owner.token,
          body: { quantity: 150 },
        });
        expect(res.status).toBeGreaterThanOrEqual(500);
        expect((await mirrored(drop.id)).quantity).toBe('100');
        expect(await stock(drop.id)).toBe(100);
        expect(await getDrop(drop.id)).toEqual(drop);
      } finally {
        await db.query(`DROP TRIGGER refuse_${drop.id} ON sales.drops`);
        await db.query(`DROP FUNCTION ${fn}()`);
      }
      const again = await api<DropBody>('PATCH', `/v1/drops/${drop.id}`, {
        token: owner.token,
        body: { quantity: 150 },
      });
      expect(again).toMatchObject({ status: 200, body: { quantity: 150, remaining: 150 } });
      expect(await stock(drop.id)).toBe(150);
    });

    describe('a crash between the PostgreSQL commit and the Redis sync', () => {
      const behind = new ApiBehindProxy(slotPort(7392), slotPort(4307));
      const { proxy, baseUrl } = behind;
      beforeAll(() => behind.start(), 60_000);
      afterAll(() => behind.stop(), 30_000);

      it('is repaired from PostgreSQL on the next read', async () => {
        const owner = brand();
        const drop = await createDrop(futureDrop(), owner.token);
        // The edit's sync to Redis never arrives: the proxy swallows it and keeps Redis out of
        // reach, and the API process is killed (-9) before it can re-send it.
        const swallowed = proxy.swallowNext(scriptOnTheWire('mirror_drop'), 60_000);
        const patch = api('PATCH', `/v1/drops/${drop.id}`, {
          token: owner.token,
          body: { quantity: 150 },
          baseUrl,
        }).catch((error: unknown) => error);
        await swallowed;
        behind.process.kill9();
        // The caller got no HTTP answer at all (the connection died with the process).
        expect((await patch) as { status?: number }).not.toHaveProperty('status');
        // PostgreSQL, the durable definition, has the edit; Redis does not have it, but knows
        // an edit was begun.
        expect(await storedQuantity(drop.id)).toBe(150);
        expect(await stock(drop.id)).toBe(100);
        expect((await mirrored(drop.id)).editing).toBe('2');
        // The next read (here on the stack's own API) repairs Redis from PostgreSQL.
        expect(await getDrop(drop.id)).toMatchObject({ quantity: 150, remaining: 150 });
        expect(await stock(drop.id)).toBe(150);
        expect(await mirrored(drop.id)).toMatchObject({ quantity: '150', version: '2' });
        expect((await mirrored(drop.id)).editing).toBeUndefined();
      });
    });
  });

  describe('one bad record never breaks a list', () => {
    it('a drop whose Redis copy is not valid is repaired from PostgreSQL in every list', async () => {
      const owner = brand();
      const drops = [
        await createDrop(futureDrop(), owner.token),
        await createDrop(futureDrop(), owner.token),
        await createDrop(futureDrop(), owner.token),
      ];
      const bad = drops[1];
      // What a PATCH with a week date used to leave behind, and a time no Date can print.
      await redis.hset(dropKeys(bad.id).drop, 'saleStartsAt', 'NaN', 'createdAt', '1e20');
      const list = await api<DropBody[]>('GET', '/v1/drops', { token: owner.token });
      expect(list.status).toBe(200);
      expect(list.body.map((d) => d.id).sort()).toEqual(drops.map((d) => d.id).sort());
      expect(list.body.find((d) => d.id === bad.id)).toEqual(bad);
      expect((await mirrored(bad.id)).saleStartsAt).toBe(
        String(Date.parse(bad.saleStartsAt as string)),
      );
      const operators = await api('GET', '/v1/drops', { token: tokenFor('operator') });
      expect(operators.status).toBe(200);
      const ops = await api('GET', '/v1/ops/drops', { token: tokenFor('operator') });
      expect(ops.status).toBe(200);
    });

    it('a drop only Redis knows, with a record that is not valid, is left out, not a 500', async () => {
      const ghost = `d${'f'.repeat(6)}${Date.now().toString(16).slice(-6)}`;
      await redis.sadd(DROPS_INDEX_KEY, ghost);
      await redis.hset(dropKeys(ghost).drop, {
        id: ghost,
        title: 'ghost',
        saleStartsAt: 'NaN',
        createdAt: '1e20',
      });
      try {
        expect((await api('GET', `/v1/drops/${ghost}`)).status).toBe(404);
        const ops = await api<{ id: string }[]>('GET', '/v1/ops/drops', {
          token: tokenFor('operator'),
        });
        expect(ops.status).toBe(200);
        const operators = await api('GET', '/v1/drops', { token: tokenFor('operator') });
        expect(operators.status).toBe(200);
      } finally {
        await retireDrop(redis, ghost);
        await redis.del(dropKeys(ghost).drop);
      }
    });
  });

  describe('a drop Redis lost is rebuilt from the stored truth', () => {
    it('units held or paid stay out of stock; holds can still be paid or cancelled', async () => {
      const drop = await createDrop(openDropBody({ quantity: 10, priceMinor: 1_000 }));
      const fans = Array.from({ length: 5 }, () => uniqueId('fan'));
      const orders: OrderBody[] = [];
      for (const fan of fans) {
        const r = await grabVia(drop.id, tokenFor('fan', fan));
        expect(r.status).toBe(201);
        orders.push(r.body);
      }
      await fund([fans[3]], 5_000);
      expect((await pay(orders[3].id, fans[3])).status).toBe(200);
      const cancel = await api('POST', `/v1/orders/${orders[4].id}/cancel`, {
        token: tokenFor('fan', fans[4]),
      });
      expect(cancel.status).toBe(200);
      // Order persistence has copied every order, with its last status, into sales.orders.
      const persisted = async () =>
        (await db.query('SELECT id, status FROM sales.orders WHERE drop_id = $1 ORDER BY id', [
          drop.id,
        ])) as { id: string; status: string }[];
      const expected = orders
        .map((o, i) => ({ id: o.id, status: i === 3 ? 'paid' : i === 4 ? 'cancelled' : 'held' }))
        .sort((a, b) => a.id.localeCompare(b.id));
      expect(
        await eventually(
          async () => JSON.stringify(await persisted()) === JSON.stringify(expected),
          20_000,
          200,
        ),
      ).toBe(true);

      await loseDrop(redis, drop.id);
      expect(await redis.exists(dropKeys(drop.id).drop)).toBe(0);

      // The next read rebuilds it: 3 held + 1 paid units are not sold again.
      expect(await getDrop(drop.id)).toMatchObject({ quantity: 10, remaining: 6 });
      expect(await redis.sismember(DROPS_INDEX_KEY, drop.id)).toBe(1);
      const held = await api<OrderBody>('GET', `/v1/orders/${orders[0].id}`, {
        token: tokenFor('fan', fans[0]),
      });
      expect(held.body).toMatchObject({ status: 'held', expiresAt: orders[0].expiresAt });
      // The per-fan limit still counts the rebuilt hold.
      const again = await grabVia(drop.id, tokenFor('fan', fans[0]));
      expect(again.body).toMatchObject({ error: 'LIMIT_REACHED' });
      // A rebuilt hold can be paid and cancelled like any other.
      await fund([fans[1]], 5_000);
      expect((await pay(orders[1].id, fans[1])).body).toMatchObject({ status: 'paid' });
      const cancelled = await api('POST', `/v1/orders/${orders[2].id}/cancel`, {
        token: tokenFor('fan', fans[2]),
      });
      expect(cancelled.status).toBe(200);
      expect((await getDrop(drop.id)).remaining).toBe(7);
      const paidOne = await api<OrderBody>('GET', `/v1/orders/${orders[3].id}`, {
        token: tokenFor('fan', fans[3]),
      });
      expect(paidOne.body.status).toBe('paid');
      const audit = await runAudit(inventory, new LedgerFacts(db), [drop.id]);
      expect(audit.breaches).toEqual([]);
    }, 60_000);
  });
});
