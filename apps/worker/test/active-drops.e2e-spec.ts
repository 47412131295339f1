import {
  api,
  closeStackConnections,
  createDrop,
  DROPS_ACTIVE_KEY,
  dropKeys,
  eventually,
  grabVia,
  isoIn,
  moveHoldDeadline,
  openDropBody,
  openStackConnections,
  OrderBody,
  StackConnections,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/**
 * The index of drops that still need work (issue 11): the worker's loops and a fan's live
 * orders walk `drops:active`, not every drop ever created. A drop leaves it once it is over,
 * holds nothing and every outbox entry was read (relayed and persisted); an event on it later
 * brings it back; a drop a crash left out is put back by the reconciliation.
 */
describe('the active drops index (running stack)', () => {
  let c: StackConnections;
  beforeAll(async () => {
    c = await openStackConnections();
  });
  afterAll(async () => {
    await closeStackConnections(c);
  });

  const isActive = async (dropId: string) =>
    (await c.redis.sismember(DROPS_ACTIVE_KEY, dropId)) === 1;

  it('a drop is active while open or holding; retired once over, settled, relayed and persisted', async () => {
    const fan = uniqueId('fan');
    const token = tokenFor('fan', fan);
    const drop = await createDrop(
      openDropBody({ quantity: 10, perUserLimit: 3, saleEndsAt: isoIn(4_000) }),
    );
    expect(await isActive(drop.id)).toBe(true);
    const orders: OrderBody[] = [];
    for (let i = 0; i < 3; i++) orders.push((await grabVia(drop.id, token)).body);
    expect(orders.map((o) => o.status)).toEqual(['held', 'held', 'held']);
    expect((await api('POST', `/v1/orders/${orders[0].id}/cancel`, { token })).status).toBe(200);

    // Past saleEndsAt, two holds are still live: the drop stays active (the sweeper needs it).
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await api<{ phase: string }>('GET', `/v1/drops/${drop.id}`)).body.phase).toBe('ended');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await isActive(drop.id)).toBe(true);

    // The holds expire (deadline moved, test-only): the sweeper returns them, order persistence
    // and the relay read the events, then the scheduler retires the drop.
    const now = Date.now();
    for (const o of orders.slice(1)) await moveHoldDeadline(c.redis, o.id, now - 1);
    expect(await eventually(async () => !(await isActive(drop.id)), 20_000, 200)).toBe(true);
    const k = dropKeys(drop.id);
    expect(await c.redis.hget(k.drop, 'retired')).toBe('1');
    expect(await c.redis.zcard(k.holds)).toBe(0);
    expect(await c.redis.xlen(k.events)).toBe(0);
    // Every order is in PostgreSQL with its final status, and the fan still sees them all.
    const rows = (await c.db.query(
      'SELECT id, status FROM sales.orders WHERE drop_id = $1 ORDER BY id',
      [drop.id],
    )) as { id: string; status: string }[];
    expect(rows.map((r) => r.status).sort()).toEqual(['cancelled', 'expired', 'expired']);
    const listed = await api<OrderBody[]>('GET', '/v1/orders', { token });
    expect(
      listed.body
        .filter((o) => o.dropId === drop.id)
        .map((o) => o.status)
        .sort(),
    ).toEqual(['cancelled', 'expired', 'expired']);

    // A share on the retired drop brings it back until its event is read, then it retires again.
    const shared = await api('POST', `/v1/drops/${drop.id}/shares`, {
      token,
      body: { channel: 'weibo' },
    });
    expect(shared.status).toBe(202);
    expect(await isActive(drop.id)).toBe(true);
    expect(await eventually(async () => !(await isActive(drop.id)), 20_000, 200)).toBe(true);
    const operator = tokenFor('operator');
    expect(
      await eventually(async () => {
        const stats = await api<{ shares: number }>('GET', `/v1/drops/${drop.id}/stats`, {
          token: operator,
        });
        return stats.body.shares === 1;
      }, 15_000),
    ).toBe(true);
  }, 60_000);

  it('an open drop is never retired; a drop a crash left out of the index is put back', async () => {
    const drop = await createDrop(openDropBody({ quantity: 5 }));
    expect(await c.inventory.retireIfDone(drop.id)).toBe(false);
    expect(await isActive(drop.id)).toBe(true);
    // As a crash between the two steps of a retirement would leave it: out, and not flagged.
    await c.redis.srem(DROPS_ACTIVE_KEY, drop.id);
    expect(await c.inventory.reconcileActive()).toBeGreaterThanOrEqual(1);
    expect(await isActive(drop.id)).toBe(true);
  });
});
