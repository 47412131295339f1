import { Inventory } from '@flashdrop/inventory';
import {
  api,
  closeStackConnections,
  createDrop,
  debitsOf,
  dropKeys,
  errorOf,
  fund,
  getDrop,
  grabVia,
  openDropBody,
  openStackConnections,
  OrderBody,
  pay,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import type { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';

/**
 * Idempotency-Key as docs/api.md spells it (Stripe's rules): a repeat gets the first answer; the same
 * key with another request (another quantity, another route) is 409 IDEMPOTENCY_KEY_REUSED and
 * changes nothing; keys are scoped to the fan and the drop, so no two fans' keys ever meet.
 */
describe('Idempotency-Key: scoped to the fan and the drop, one request per key', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  const fan = (id = uniqueId('fan')) => ({ id, token: tokenFor('fan', id) });
  const ordersOf = async (dropId: string, fanId: string) =>
    redis.lrange(dropKeys(dropId).fanOrders(fanId), 0, -1);

  it('the same key with another quantity: 409 IDEMPOTENCY_KEY_REUSED, nothing written', async () => {
    const drop = await createDrop(openDropBody({ perUserLimit: 5 }));
    const f = fan();
    const first = await grabVia(drop.id, f.token, { quantity: 1 }, 'k-1');
    expect(first.status).toBe(201);
    const other = await grabVia(drop.id, f.token, { quantity: 2 }, 'k-1');
    expect(other.status).toBe(409);
    expect(errorOf(other)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await getDrop(drop.id)).remaining).toBe(99);
    expect(await ordersOf(drop.id, f.id)).toEqual([first.body.id]);
    // The first request again still gets its own answer.
    const again = await grabVia(drop.id, f.token, { quantity: 1 }, 'k-1');
    expect(again).toMatchObject({ status: 201, body: first.body });
  });

  it('the same key for a refused first answer and another quantity is refused too', async () => {
    const drop = await createDrop(openDropBody({ quantity: 1, perUserLimit: 2 }));
    const f = fan();
    const first = await grabVia(drop.id, f.token, { quantity: 2 }, 'k-sold');
    expect(errorOf(first)).toBe('SOLD_OUT');
    const other = await grabVia(drop.id, f.token, { quantity: 1 }, 'k-sold');
    expect(errorOf(other)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await getDrop(drop.id)).remaining).toBe(1);
  });

  it("no two fans' keys meet: fan `a` with key `x:b` and fan `a:x` with key `b`", async () => {
    const drop = await createDrop(openDropBody());
    const a = fan(uniqueId('fan'));
    const ax = fan(`${a.id}:x`);
    const first = await grabVia(drop.id, a.token, undefined, 'x:b');
    const second = await grabVia(drop.id, ax.token, undefined, 'b');
    expect(first).toMatchObject({ status: 201, body: { fanId: a.id } });
    expect(second).toMatchObject({ status: 201, body: { fanId: ax.id } });
    expect(second.body.id).not.toBe(first.body.id);
    expect((await getDrop(drop.id)).remaining).toBe(98);
  });

  it('a key is per drop: the same key on two drops makes two orders', async () => {
    const [one, two] = [await createDrop(openDropBody()), await createDrop(openDropBody())];
    const f = fan();
    const a = await grabVia(one.id, f.token, undefined, 'same');
    const b = await grabVia(two.id, f.token, undefined, 'same');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.dropId).toBe(one.id);
    expect(b.body.dropId).toBe(two.id);
  });

  describe('payments', () => {
    async function heldPair(f: { id: string; token: string }) {
      const drop = await createDrop(openDropBody({ perUserLimit: 2, priceMinor: 1_000 }));
      const orders: OrderBody[] = [];
      for (const key of ['g-1', 'g-2']) {
        const r = await grabVia(drop.id, f.token, undefined, key);
        expect(r.status).toBe(201);
        orders.push(r.body);
      }
      return { drop, orders };
    }

    it("a grab's key used for a payment (another route): 409, nothing debited", async () => {
      const f = fan();
      await fund([f.id], 5_000);
      const { orders } = await heldPair(f);
      const res = await pay(orders[0].id, f.id, { 'idempotency-key': 'g-1' });
      expect(res.status).toBe(409);
      expect(errorOf(res)).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await inventory.getOrder(orders[0].id))?.status).toBe('held');
      expect((await debitsOf(db, [orders[0].id])).size).toBe(0);
    });

    it("a payment's key used for a grab (another route): 409, nothing held", async () => {
      const f = fan();
      await fund([f.id], 5_000);
      const drop = await createDrop(openDropBody({ perUserLimit: 2, priceMinor: 1_000 }));
      const held = await grabVia(drop.id, f.token);
      expect((await pay(held.body.id, f.id, { 'idempotency-key': 'p-1' })).status).toBe(200);
      const grab = await grabVia(drop.id, f.token, undefined, 'p-1');
      expect(grab.status).toBe(409);
      expect(errorOf(grab)).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await getDrop(drop.id)).remaining).toBe(99);
    });

    it("no two fans' payment keys meet: `a` with `x:b`, `a:x` with `b`", async () => {
      const a = fan(uniqueId('fan'));
      const ax = fan(`${a.id}:x`);
      await fund([a.id, ax.id], 5_000);
      const drop = await createDrop(openDropBody({ priceMinor: 1_000 }));
      const [oa, oax] = [await grabVia(drop.id, a.token), await grabVia(drop.id, ax.token)];
      const paidA = await pay(oa.body.id, a.id, { 'idempotency-key': 'x:b' });
      const paidAx = await pay(oax.body.id, ax.id, { 'idempotency-key': 'b' });
      expect(paidA).toMatchObject({ status: 200, body: { status: 'paid', fanId: a.id } });
      expect(paidAx).toMatchObject({ status: 200, body: { status: 'paid', fanId: ax.id } });
    });

    it('the same payment key for another order of the drop: 409, that order stays held', async () => {
      const f = fan();
      await fund([f.id], 5_000);
      const { orders } = await heldPair(f);
      expect((await pay(orders[0].id, f.id, { 'idempotency-key': 'p' })).status).toBe(200);
      const reused = await pay(orders[1].id, f.id, { 'idempotency-key': 'p' });
      expect(reused.status).toBe(409);
      expect(errorOf(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
      expect((await inventory.getOrder(orders[1].id))?.status).toBe('held');
      expect((await debitsOf(db, [orders[1].id])).size).toBe(0);
      const again = await pay(orders[0].id, f.id, { 'idempotency-key': 'p' });
      expect(again).toMatchObject({ status: 200, body: { id: orders[0].id, status: 'paid' } });
    });
  });

  it('an unknown drop answers 404 whatever the key', async () => {
    const res = await api('POST', '/v1/drops/d000000000000/purchases', {
      token: fan().token,
      headers: { 'idempotency-key': 'k' },
    });
    expect(res.status).toBe(404);
  });
});
