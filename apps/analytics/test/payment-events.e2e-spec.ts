import type { RedisClient } from '@flashdrop/persistence';
import { Inventory } from '@flashdrop/inventory';
import {
  api,
  dropDefinition,
  eventually,
  redisNow,
  tokenFor,
  uniqueId,
  closeStackConnections,
  openStackConnections,
} from '@flashdrop/testing';

import { DataSource } from 'typeorm';

interface Stats {
  paid: number;
  held: number;
  revenueMinor: number;
  paidOrders: number;
  walletDebits: number;
  walletDebitedMinor: number;
}

/**
 * Payments reach the stats from both outboxes: `order.paid` from the sale's Redis stream and
 * `wallet.debited` from the wallet's PostgreSQL outbox table (relayed by the worker), and the
 * two sides agree. Through the running test stack: credits and payments over HTTP.
 */
describe('payments in the stats, from the sale and from the wallet', () => {
  let redis: RedisClient;
  let inventory: Inventory;
  let db: DataSource;

  beforeAll(async () => ({ redis, inventory, db } = await openStackConnections()));
  afterAll(() => closeStackConnections({ redis, db }));

  it('40 concurrent payments: 40 paid units and 40 wallet debits, the same money, every outbox row published', async () => {
    const fans = Array.from({ length: 40 }, () => uniqueId('fan'));
    const drop = dropDefinition(await redisNow(redis), {
      brandId: uniqueId('brand'),
      quantity: 40,
      reservationRequired: false,
      reservationOpensAt: undefined,
      reservationClosesAt: undefined,
      priceMinor: 1_999,
    });
    await inventory.createDrop(drop);
    const operator = tokenFor('operator');
    const orders = await Promise.all(
      fans.map(async (fanId) => {
        const credit = await api('POST', `/v1/wallets/${fanId}/credits`, {
          token: operator,
          body: { amountMinor: 5_000, reference: uniqueId('topup') },
        });
        expect(credit.status).toBe(201);
        const grab = await inventory.grab({
          dropId: drop.id,
          fanId,
          quantity: 1,
        });
        if (!grab.ok) throw new Error(grab.code);
        return { fanId, orderId: grab.order.id };
      }),
    );
    const paid = await Promise.all(
      orders.map((o) =>
        api('POST', `/v1/orders/${o.orderId}/payment`, { token: tokenFor('fan', o.fanId) }),
      ),
    );
    expect(paid.map((r) => r.status)).toEqual(Array(40).fill(200));

    let stats: Stats | undefined;
    const agreed = await eventually(async () => {
      const res = await api<Stats>('GET', `/v1/drops/${drop.id}/stats`, { token: operator });
      stats = res.body;
      return res.status === 200 && stats.paid === 40 && stats.walletDebits === 40;
    }, 15_000);
    expect({ agreed, stats }).toMatchObject({ agreed: true });
    expect(stats).toMatchObject({
      paid: 40,
      held: 0,
      paidOrders: 40,
      revenueMinor: 40 * 1_999,
      walletDebits: 40,
      walletDebitedMinor: 40 * 1_999,
    });
    const unpublished: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM wallet.outbox WHERE published_at IS NULL AND key = ANY($1)`,
      [fans],
    );
    expect(Number(unpublished[0].n)).toBe(0);
  }, 60_000);
});
