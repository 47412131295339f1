import { debitRequestOf, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { RedisClient } from '@flashdrop/persistence';
import {
  auditWithRecords,
  balancesOf,
  closeStackWithWallet,
  createDrop,
  debitsOf,
  eventually,
  fanIds,
  fund,
  getDrop,
  grabVia,
  loseDrop,
  openDropBody,
  openStackWithWallet,
  pay,
  tokenFor,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';
import { DataSource } from 'typeorm';

const PRICE = 2_500;
const FUNDS = 10_000;

/**
 * A payment in flight when Redis loses its drop (issue 11): begin_payment's order.paying makes
 * order persistence store the order `paying` WITH its attempt, and the rebuilt drop has it
 * paying with that same attempt (restore_orders). So the debit that was on its way for it is
 * settled like any other late debit (apps/wallet/PAYMENTS.md "Redis losing the drop"):
 * - `late`: the recovery settles the old attempt first (voided, the order held again), then the
 *   old debit arrives and moves nothing; the fan pays again, once;
 * - `landed`: the old debit commits after the rebuild, its caller alive: completed, paid once;
 * - `orphan`: the old debit committed before the loss and its caller died: the recovery finds
 *   the debit for that attempt and completes the order.
 * Before the fix the rebuilt order got a NEW attempt: the recovery voided that one and aborted,
 * and `late`'s debit then committed on a held order (invariant 5 in the audit).
 * Through the running stack: its worker persists the orders and runs the payment recovery.
 */
describe('a payment in flight when Redis loses its drop is settled with its own attempt', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  let wallet: WalletClient;

  beforeAll(async () => {
    ({ redis, inventory, db, wallet } = await openStackWithWallet());
  });
  afterAll(() => closeStackWithWallet({ redis, inventory, db, wallet }));

  const storedAttempt = async (orderId: string) => {
    const [row] = (await db.query(
      `SELECT status, (extract(epoch FROM paying_until) * 1000)::bigint::text AS attempt
       FROM sales.orders WHERE id = $1`,
      [orderId],
    )) as { status: string; attempt: string | null }[];
    return row;
  };
  const fence = async (orderId: string, attempt: number) => {
    const [row] = (await db.query(
      'SELECT status FROM wallet.payments WHERE order_id = $1 AND attempt = $2',
      [orderId, attempt],
    )) as { status: string }[];
    return row?.status;
  };
  const audit = (dropId: string) => auditWithRecords({ inventory, db }, [dropId]);

  it('the old attempt is voided (late debit moves nothing), debited after the rebuild, or debited before it: each paid once; audit clean', async () => {
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, quantity: 4, perUserLimit: 1 }),
    );
    const fans = fanIds(3);
    await fund(fans, FUNDS);
    const held: InventoryOrder[] = [];
    for (const fan of fans) {
      const grabbed = await grabVia(drop.id, tokenFor('fan', fan), { quantity: 1 });
      expect(grabbed.status).toBe(201);
      const order = await inventory.getOrder(grabbed.body.id);
      if (!order) throw new Error(`no order ${grabbed.body.id}`);
      held.push(order);
    }
    const [late, landed, orphan] = held;
    // Each payment begins as the API's would (its debit then still on its way). `late`'s fence
    // lapses soon, so the recovery settles it after the rebuild; the others' fences outlast the
    // test's steps, so only their own debits decide them.
    const ttl = new Map([
      [late.id, 8_000],
      [landed.id, 60_000],
      [orphan.id, 8_000],
    ]);
    const attempts = new Map<string, number>();
    for (const o of held) {
      const begun = await inventory.beginPayment(o.id, {
        fanId: o.fanId,
        payingTtlMs: ttl.get(o.id),
      });
      const attempt = begun.ok ? begun.value.payingUntil : undefined;
      if (attempt === undefined) throw new Error(`begin_payment gave ${o.id} no attempt`);
      attempts.set(o.id, attempt);
    }
    const debitOf = (o: InventoryOrder) => debitRequestOf(o, attempts.get(o.id)!, drop.brandId);
    // `orphan`'s debit commits before the loss; its caller dies before complete_payment.
    expect((await wallet.debit(debitOf(orphan))).outcome).toBe('debited');
    // Stored as they are: paying, each with its attempt.
    const want = (o: InventoryOrder) => ({ status: 'paying', attempt: String(attempts.get(o.id)) });
    await eventually(
      async () =>
        (await Promise.all(held.map((o) => storedAttempt(o.id)))).every(
          (row, i) => JSON.stringify(row) === JSON.stringify(want(held[i])),
        ),
      20_000,
      200,
    );
    for (const o of held) expect(await storedAttempt(o.id)).toEqual(want(o));

    await loseDrop(redis, drop.id);
    // Rebuilt by the read: each paying again with ITS attempt, the units still taken.
    expect(await getDrop(drop.id)).toMatchObject({ remaining: 1 });
    for (const o of held) {
      expect(await inventory.getOrder(o.id)).toMatchObject({
        status: 'paying',
        payingUntil: attempts.get(o.id),
      });
    }

    // `landed`: the old debit commits now and its caller completes the order, as the API does.
    expect((await wallet.debit(debitOf(landed))).outcome).toBe('debited');
    expect(await inventory.completePayment(landed.id)).toMatchObject({
      ok: true,
      value: { status: 'paid' },
    });
    // `late` and `orphan`: the stack's recovery settles each once its attempt lapses.
    await eventually(
      async () =>
        (await inventory.getOrder(late.id))?.status === 'held' &&
        (await inventory.getOrder(orphan.id))?.status === 'paid',
      30_000,
      250,
    );
    expect(await fence(late.id, attempts.get(late.id)!)).toBe('voided');
    // `late`'s debit, on its way all along, arrives after the void: fenced off, nothing moved.
    expect(await wallet.debit(debitOf(late))).toMatchObject({ outcome: 'voided' });
    expect((await debitsOf(db, [late.id])).size).toBe(0);
    expect((await balancesOf(db, [late.fanId])).get(late.fanId)).toBe(FUNDS);
    // The fan pays again (a new attempt): paid once.
    const again = await pay(late.id, late.fanId);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('paid');

    const debits = await debitsOf(
      db,
      held.map((o) => o.id),
    );
    expect(held.map((o) => debits.get(o.id)?.count)).toEqual([1, 1, 1]);
    const balances = await balancesOf(db, fans);
    expect(fans.map((f) => balances.get(f))).toEqual(fans.map(() => FUNDS - PRICE));
    expect(await inventory.counters(drop.id)).toMatchObject({
      paid: 3,
      held: 0,
      revenueMinor: 3 * PRICE,
    });
    expect(await getDrop(drop.id)).toMatchObject({ remaining: 1 });
    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
  }, 120_000);
});
