import {
  closeStackConnections,
  eventually,
  heldOrders,
  openStackConnections,
  retireDrop,
  StackConnections,
  uniqueId,
  WebhookReceiver,
} from '@flashdrop/testing';
import { checkSignature } from '@flashdrop/webhooks';
import { OwnNotifier, payWithScripts } from './own-notifier';

/**
 * Every paid order of a 1,000-order drop reaches a receiver that fails the first two attempts
 * of each event, across a `kill -9` of the delivering notifier in the middle of the run: each
 * delivery signed, the same id (and body) on every retry, exactly one per event once the
 * receiver dedupes, nothing lost.
 */
describe('webhook deliveries across a kill -9 of the notifier', () => {
  let c: StackConnections;
  const notifier = new OwnNotifier('crash', 3461, { WEBHOOK_CONCURRENCY: '16' });
  const receiver = new WebhookReceiver((attempt) => (attempt <= 2 ? 500 : 200));
  let dropId: string | undefined;

  beforeAll(async () => {
    c = await openStackConnections();
    await notifier.prepare();
    await receiver.start();
  }, 60_000);

  afterAll(async () => {
    await notifier.stop();
    await receiver.stop();
    if (dropId) await retireDrop(c.redis, dropId);
    await closeStackConnections(c);
  }, 60_000);

  it('delivers all 1,000 order.paid events exactly once after dedupe', async () => {
    const brand = uniqueId('brand');
    const { secret } = await notifier.register(brand, receiver.url, ['order.paid']);
    await notifier.start();

    const fans = Array.from({ length: 1000 }, () => uniqueId('fan'));
    const { drop, orders } = await heldOrders(c.inventory, fans, { brandId: brand });
    dropId = drop.id;
    await payWithScripts(c.inventory, orders);

    // Mid-run: a fifth of the events accepted, many more in their retries.
    expect(await eventually(async () => receiver.accepted.size >= 200, 120_000, 50)).toBe(true);
    notifier.kill9();
    const acceptedAtKill = receiver.accepted.size;
    expect(acceptedAtKill).toBeLessThan(1000);
    await notifier.start();

    const all = await eventually(async () => receiver.accepted.size === 1000, 240_000, 250);
    expect(all).toBe(true);
    const paidIds = new Set(orders.map((o) => o.id));
    const delivered = [...receiver.accepted.values()];
    expect(new Set(delivered.map((d) => d.json.data.id))).toEqual(paidIds);
    for (const d of delivered) {
      expect(d.json.type).toBe('order.paid');
      expect(d.json.data.status).toBe('paid');
      expect(d.attempt).toBeGreaterThanOrEqual(3);
    }
    // Every attempt signed; the same id always carries the same body, whoever sent it.
    const bodies = new Map<string, string>();
    for (const r of receiver.received) {
      expect(checkSignature(r.signature, secret, r.body)).toBe('ok');
      expect(bodies.get(r.id) ?? r.body).toBe(r.body);
      bodies.set(r.id, r.body);
    }
    expect(bodies.size).toBe(1000);
    // One drop's seq numbers: one per event, none repeated.
    expect(new Set(delivered.map((d) => d.json.seq)).size).toBe(1000);

    // The records agree: 1,000 deliveries, each delivered, attempts listed per delivery.
    const settled = await eventually(
      async () =>
        (await notifier.db.deliveries.backlogByBrand()).some(
          (b) => b.brandId === brand && b.delivered === 1000 && b.pending === 0,
        ),
      30_000,
      250,
    );
    expect(settled).toBe(true);
  }, 420_000);
});
