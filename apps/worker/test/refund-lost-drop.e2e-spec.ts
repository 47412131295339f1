import { Inventory } from '@flashdrop/inventory';
import { RedisClient } from '@flashdrop/persistence';
import {
  auditWithRecords,
  balancesOf,
  closeStackWithWallet,
  createDrop,
  dropKeys,
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
import { RefundRecovery } from '../src/refund-recovery/refund-recovery';

const PRICE = 2_500;

interface StoredRefund {
  status: string;
  refunding_since: string | null;
  refund_reason: string | null;
}

/**
 * A refund under way when Redis loses its drop (issue 11): order persistence stores it as it is
 * (`refunding`, with its attempt), the rebuilt drop has it refunding in the refunding index, and
 * the refund recovery finishes it as it would have: the wallet's refund of that attempt, once
 * (`already` when it had moved the money before the loss), then complete_refund. A refund the
 * wallet declined before the loss is stored paid again and comes back paid. Through the running
 * stack (its worker persists the orders); the recovery pass is the test's own.
 */
describe('a refund under way when Redis loses its drop is finished after the rebuild', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;
  let wallet: WalletClient;
  let recovery: RefundRecovery;

  beforeAll(async () => {
    ({ redis, inventory, db, wallet } = await openStackWithWallet());
    recovery = new RefundRecovery(inventory, wallet);
  });
  afterAll(() => closeStackWithWallet({ redis, inventory, db, wallet }));

  const stored = async (orderIds: readonly string[]) => {
    const rows = (await db.query(
      `SELECT id, status, (extract(epoch FROM refunding_since) * 1000)::bigint::text
         AS refunding_since, refund_reason
       FROM sales.orders WHERE id = ANY($1)`,
      [orderIds],
    )) as (StoredRefund & { id: string })[];
    // In the order asked for, so two readings compare as JSON.
    const byId = new Map(rows.map(({ id, ...row }) => [id, row]));
    return Object.fromEntries(orderIds.map((id) => [id, byId.get(id)]));
  };
  /** Waits until every order is stored as `want` says, then asserts it. */
  async function persisted(want: Record<string, StoredRefund>) {
    const ids = Object.keys(want);
    await eventually(
      async () => JSON.stringify(await stored(ids)) === JSON.stringify(want),
      20_000,
      200,
    );
    expect(await stored(ids)).toEqual(want);
  }
  const refundTransfers = async (orderId: string) => {
    const [row] = (await db.query(
      `SELECT count(*)::int AS n FROM wallet.transfers WHERE kind = 'refund' AND order_id = $1`,
      [orderId],
    )) as { n: number }[];
    return row.n;
  };
  const audit = (dropId: string) => auditWithRecords({ inventory, db }, [dropId]);

  it('wallet refunded before the loss, wallet not yet asked, refund declined: completed once, completed once, paid; audit clean', async () => {
    const drop = await createDrop(
      openDropBody({ priceMinor: PRICE, quantity: 5, perUserLimit: 1 }),
    );
    const fans = fanIds(4);
    await fund(fans, PRICE);
    const orders = [];
    for (const fan of fans) {
      const grabbed = await grabVia(drop.id, tokenFor('fan', fan), { quantity: 1 });
      expect(grabbed.status).toBe(201);
      expect((await pay(grabbed.body.id, fan)).body.status).toBe('paid');
      orders.push(grabbed.body);
    }
    const [moved, asked, declined, untouched] = orders;
    // Three refunds begin, as the API's refund would begin them (its caller then dies):
    const attempts = new Map<string, number>();
    for (const o of [moved, asked, declined]) {
      const begun = await inventory.beginRefund(o.id, 'returned');
      const attempt = begun.ok ? begun.value.order.refundingSince : undefined;
      if (attempt === undefined) throw new Error(`begin_refund gave ${o.id} no attempt`);
      attempts.set(o.id, attempt);
    }
    // `moved`: the wallet moved the money back before the loss; `asked`: it was never asked;
    // `declined`: put back to paid as after the wallet's decline (abort_refund).
    expect(
      (await wallet.refund({ orderId: moved.id, attempt: attempts.get(moved.id)! })).outcome,
    ).toBe('refunded');
    expect(
      (await inventory.abortRefund(declined.id, attempts.get(declined.id)!)).ok &&
        (await inventory.getOrder(declined.id))?.status,
    ).toBe('paid');
    const refunding = (id: string): StoredRefund => ({
      status: 'refunding',
      refunding_since: String(attempts.get(id)),
      refund_reason: 'returned',
    });
    const paid: StoredRefund = { status: 'paid', refunding_since: null, refund_reason: null };
    await persisted({
      [moved.id]: refunding(moved.id),
      [asked.id]: refunding(asked.id),
      [declined.id]: paid,
      [untouched.id]: paid,
    });

    await loseDrop(redis, drop.id);
    // Rebuilt by the read: the refunds under way still hold their units (5 - 4 paid or refunding).
    expect(await getDrop(drop.id)).toMatchObject({ remaining: 1 });
    const k = dropKeys(drop.id);
    for (const o of [moved, asked]) {
      expect(await inventory.getOrder(o.id)).toMatchObject({
        status: 'refunding',
        refundingSince: attempts.get(o.id),
        refundReason: 'returned',
      });
    }
    expect(await redis.zrange(k.refunding, 0, -1, 'WITHSCORES')).toEqual(
      [moved, asked]
        .map((o) => [o.id, String(attempts.get(o.id))])
        .sort((a, b) => Number(a[1]) - Number(b[1]) || a[0].localeCompare(b[0]))
        .flat(),
    );
    expect((await inventory.getOrder(declined.id))?.status).toBe('paid');
    expect(await inventory.counters(drop.id)).toMatchObject({
      paid: 4,
      refunded: 0,
      revenueMinor: 4 * PRICE,
    });
    // The audit of the rebuilt drop, before the recovery: nothing stuck, nothing out of place.
    expect((await audit(drop.id)).breaches).toEqual([]);

    // This pass (or the stack's own recovery job, past its grace) finishes both refunds.
    await recovery.recoverOnce(0);
    for (const o of [moved, asked]) {
      expect((await inventory.getOrder(o.id))?.status).toBe('refunded');
      expect(await refundTransfers(o.id)).toBe(1);
    }
    expect(await refundTransfers(declined.id)).toBe(0);
    const balances = await balancesOf(db, fans);
    expect(fans.map((f) => balances.get(f))).toEqual([PRICE, PRICE, 0, 0]);
    expect(await redis.zcard(k.refunding)).toBe(0);
    expect(await getDrop(drop.id)).toMatchObject({ remaining: 3 });
    const done = { status: 'refunded', refunding_since: null, refund_reason: 'returned' };
    await persisted({
      [moved.id]: done,
      [asked.id]: done,
      [declined.id]: paid,
      [untouched.id]: paid,
    });

    const report = await audit(drop.id);
    expect(report.breaches).toEqual([]);
    expect(report.notices).toEqual([
      { subject: `drop ${drop.id}`, message: expect.stringMatching(/not rebuilt: waitlist$/) },
    ]);
  }, 120_000);
});
