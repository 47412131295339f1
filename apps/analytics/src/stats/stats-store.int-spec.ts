import { EventCatalog, EventType, EventVersions, KnownEnvelope, Topics } from '@flashdrop/events';
import { newDropId } from '@flashdrop/inventory';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { testConfig } from '@flashdrop/testing';

import { randomUUID } from 'node:crypto';
import { analyticsKeys } from './analytics-keys';
import { StatsStore, TopicEvent } from './stats-store';

/**
 * The batch form of `apply_event` against the real Redis: a batch counts each event once
 * (duplicates inside it, replays of it after a crash before the offset commit), and its summed
 * writes leave exactly what applying the events one at a time leaves.
 */
describe('StatsStore.applyBatch (apply_event.lua)', () => {
  let redis: RedisClient;
  let store: StatsStore;
  const t0 = Date.now();
  /** Entries written so far per drop: each drop's stream ids (and times) count from t0. */
  const written = new Map<string, number>();

  beforeAll(() => {
    redis = connectRedis(testConfig());
    store = new StatsStore(redis);
  });
  afterAll(() => redis.disconnect());

  /** A stream event of the drop, with the next entry id. */
  function streamEvent<T extends EventType>(dropId: string, type: T, data: EventCatalog[T]) {
    const seq = (written.get(dropId) ?? 0) + 1;
    written.set(dropId, seq);
    const envelope = {
      id: `${dropId}:${t0 + seq}-0`,
      type,
      version: EventVersions[type],
      occurredAt: new Date(t0 + seq).toISOString(),
      key: dropId,
      data,
    } as unknown as KnownEnvelope;
    return { event: envelope, topic: type.startsWith('drop.') ? Topics.drops : Topics.sales };
  }

  function walletDebit(dropId: string, orderId: string): TopicEvent {
    const envelope = {
      id: randomUUID(),
      type: 'wallet.debited',
      version: EventVersions['wallet.debited'],
      occurredAt: new Date(t0).toISOString(),
      key: 'fan-1',
      data: { fanId: 'fan-1', orderId, dropId, amountMinor: 500, balanceMinor: 0 },
    } as KnownEnvelope;
    return { event: envelope, topic: Topics.wallet };
  }

  /** Every analytics key of the drop, as plain data. */
  async function snapshot(dropId: string) {
    const k = analyticsKeys(dropId);
    const [stats, channels, referrers, seconds, watermark] = await Promise.all([
      redis.hgetall(k.stats),
      redis.hgetall(k.channels),
      redis.zrange(k.referrers, 0, -1, 'WITHSCORES'),
      redis.hgetall(k.seconds),
      redis.hgetall(k.watermark),
    ]);
    return { stats, channels, referrers, seconds, watermark };
  }

  /** A sale's worth of events of every kind that changes the counters. */
  function saleEvents(dropId: string): TopicEvent[] {
    const order = (i: number) => `${dropId}-o${i}`;
    const held = (i: number, remaining: number) =>
      streamEvent(dropId, 'grab.accepted', {
        dropId,
        orderId: order(i),
        fanId: `f${i}`,
        quantity: 1,
        amountMinor: 500,
        expiresAt: t0 + 60_000,
        remaining,
      });
    return [
      streamEvent(dropId, 'drop.created', {
        dropId,
        brandId: 'brand-1',
        quantity: 3,
        priceMinor: 500,
        currency: 'CNY',
      }),
      streamEvent(dropId, 'drop.phase_changed', { dropId, phase: 'reservation_open' }),
      streamEvent(dropId, 'reservation.created', { dropId, fanId: 'f1' }),
      streamEvent(dropId, 'reservation.created', { dropId, fanId: 'f2', referrerId: 'f1' }),
      streamEvent(dropId, 'reservation.created', { dropId, fanId: 'f3', referrerId: 'f1' }),
      streamEvent(dropId, 'share.recorded', { dropId, fanId: 'f1', channel: 'weibo' }),
      streamEvent(dropId, 'share.recorded', { dropId, fanId: 'f2', channel: 'qq' }),
      streamEvent(dropId, 'drop.phase_changed', { dropId, phase: 'on_sale' }),
      held(1, 2),
      held(2, 1),
      streamEvent(dropId, 'grab.rejected', { dropId, code: 'NOT_RESERVED', count: 1 }),
      held(3, 0),
      streamEvent(dropId, 'grab.rejected', { dropId, code: 'SOLD_OUT', count: 4 }),
      streamEvent(dropId, 'order.paid', {
        dropId,
        orderId: order(1),
        fanId: 'f1',
        quantity: 1,
        amountMinor: 500,
      }),
      walletDebit(dropId, order(1)),
      streamEvent(dropId, 'hold.expired', {
        dropId,
        orderId: order(2),
        fanId: 'f2',
        quantity: 1,
        remaining: 1,
      }),
      streamEvent(dropId, 'hold.cancelled', {
        dropId,
        orderId: order(3),
        fanId: 'f3',
        quantity: 1,
        remaining: 2,
      }),
      streamEvent(dropId, 'drop.paused', { dropId }),
    ];
  }

  it('leaves exactly what applying the events one at a time leaves', async () => {
    const one = newDropId();
    const batch = newDropId();
    for (const item of saleEvents(one)) await store.applyBatch([item]);
    const result = await store.applyBatch(saleEvents(batch));
    expect(result).toEqual({ applied: 18, duplicates: 0 });

    const a = await snapshot(one);
    const b = await snapshot(batch);
    expect(b).toEqual(a);
    expect(b.stats).toMatchObject({
      quantity: '3',
      brandId: 'brand-1',
      phase: 'on_sale',
      paused: '1',
      reservations: '3',
      referrals: '2',
      shares: '2',
      grabAttempts: '8',
      accepted: '3',
      held: '0',
      paid: '1',
      expired: '1',
      cancelled: '1',
      paidOrders: '1',
      revenueMinor: '500',
      'rej:NOT_RESERVED': '1',
      'rej:SOLD_OUT': '4',
      walletDebits: '1',
      walletDebitedMinor: '500',
      remaining: '2',
    });
    // The first sale and the sell-out keep the first event's time, as HSETNX one by one does.
    expect(b.stats.firstSaleAt).toBeDefined();
    expect(Number(b.stats.soldOutAt)).toBeGreaterThan(Number(b.stats.firstSaleAt));
    expect(b.referrers).toEqual(['f1', '2']);
  });

  it('counts an event that comes twice in one batch once', async () => {
    const dropId = newDropId();
    const events = saleEvents(dropId);
    const debit = events[14];
    // A relay re-send puts earlier events again after later ones in the same partition.
    const withDuplicates = [...events.slice(0, 10), ...events.slice(2, 6), ...events.slice(10)];
    withDuplicates.push(debit, events[8]);
    const result = await store.applyBatch(withDuplicates);
    expect(result).toEqual({ applied: 18, duplicates: 6 });

    const reference = newDropId();
    await store.applyBatch(saleEvents(reference));
    expect(await snapshot(dropId)).toEqual(await snapshot(reference));
  });

  it('a batch applied again (a crash between apply and offset commit) changes nothing', async () => {
    const dropId = newDropId();
    const events = saleEvents(dropId);
    await store.applyBatch(events.slice(0, 12));
    const before = await snapshot(dropId);

    // Redelivered from the last committed offset: the applied part again, then new events.
    expect(await store.applyBatch(events.slice(0, 12))).toEqual({ applied: 0, duplicates: 12 });
    expect(await snapshot(dropId)).toEqual(before);
    expect(await store.applyBatch(events.slice(4))).toEqual({ applied: 6, duplicates: 8 });

    const reference = newDropId();
    await store.applyBatch(saleEvents(reference));
    expect(await snapshot(dropId)).toEqual(await snapshot(reference));
  });

  it('a batch of many drops applies each drop’s events to that drop only', async () => {
    const drops = [newDropId(), newDropId(), newDropId()];
    const mixed: TopicEvent[] = [];
    for (let i = 0; i < 30; i++) {
      const dropId = drops[i % 3];
      mixed.push(streamEvent(dropId, 'share.recorded', { dropId, fanId: `f${i}`, channel: 'qq' }));
    }
    expect(await store.applyBatch(mixed)).toEqual({ applied: 30, duplicates: 0 });
    for (const dropId of drops) {
      expect((await snapshot(dropId)).stats.shares).toBe('10');
    }
  });

  it('one event that cannot be counted is left out; the rest of the batch still counts, once', async () => {
    const dropId = newDropId();
    const debit = walletDebit(dropId, `${dropId}-o1`);
    const bad = streamEvent(dropId, 'grab.rejected', { dropId, code: 'SOLD_OUT', count: 1.5 });
    const share = streamEvent(dropId, 'share.recorded', { dropId, fanId: 'f1', channel: 'qq' });
    // Before: the debit's seen-key was written, then the fractional count failed the script, so
    // its redelivery was a "duplicate" and the debit was never counted.
    const first = await store.applyBatch([debit, bad, share]);
    expect(first).toEqual({ applied: 2, duplicates: 0, invalid: 1 });
    expect(await store.applyBatch([debit, share])).toEqual({ applied: 0, duplicates: 2 });
    const { stats } = await snapshot(dropId);
    expect(stats).toMatchObject({ walletDebits: '1', walletDebitedMinor: '500', shares: '1' });
    expect(stats.grabAttempts).toBeUndefined();
  });
});
