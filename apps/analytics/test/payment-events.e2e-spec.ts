import type { RedisClient } from '@flashdrop/persistence';
import { createKafka, EventHeaders, Topics, topicName } from '@flashdrop/events';
import { Inventory } from '@flashdrop/inventory';
import {
  api,
  dropDefinition,
  eventually,
  fetchTopicHighs,
  redisNow,
  tokenFor,
  uniqueId,
  closeStackConnections,
  openStackConnections,
  testConfig,
} from '@flashdrop/testing';
import { Admin, Kafka } from 'kafkajs';

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
  let kafka: Kafka;
  let admin: Admin;
  // The topics a paid order's events travel on, and where each partition stood before.
  const topics = [Topics.sales, Topics.wallet].map((t) =>
    topicName(t, testConfig().KAFKA_TOPIC_PREFIX),
  );
  const starts = new Map<string, { partition: number; offset: string }[]>();

  beforeAll(async () => {
    ({ redis, inventory, db } = await openStackConnections());
    kafka = createKafka(uniqueId('keys-check'), testConfig().kafkaBrokers);
    admin = kafka.admin();
    await admin.connect();
    for (const topic of topics) starts.set(topic, await fetchTopicHighs(admin, topic));
  });
  afterAll(async () => {
    await admin.disconnect();
    await closeStackConnections({ redis, db });
  });

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

    // Every event of the drop, from the sale's stream and from the wallet's table, was keyed by
    // the drop id: one partition per topic for the drop, so its order holds per partition.
    const seen: { topic: string; partition: number; key: string; type: string }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueId('keys-check') });
    await consumer.connect();
    await consumer.subscribe({ topics });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const data = (
          JSON.parse(message.value?.toString() ?? '{}') as { data?: { dropId?: string } }
        ).data;
        const key = message.key?.toString() ?? '';
        if (key !== drop.id && data?.dropId !== drop.id) return;
        seen.push({ topic, partition, key, type: String(message.headers?.[EventHeaders.type]) });
      },
    });
    for (const [topic, partitions] of starts) {
      for (const { partition, offset } of partitions) consumer.seek({ topic, partition, offset });
    }
    const count = (type: string) => seen.filter((m) => m.type === type).length;
    const all = await eventually(
      async () => count('wallet.debited') === 40 && count('order.paid') === 40,
      20_000,
    );
    await consumer.disconnect();
    expect({ all, debited: count('wallet.debited'), paid: count('order.paid') }).toEqual({
      all: true,
      debited: 40,
      paid: 40,
    });
    expect(seen.filter((m) => m.key !== drop.id)).toEqual([]);
    for (const topic of topics) {
      expect(new Set(seen.filter((m) => m.topic === topic).map((m) => m.partition)).size).toBe(1);
    }
  }, 90_000);
});
