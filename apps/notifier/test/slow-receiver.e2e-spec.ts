import {
  api,
  closeStackConnections,
  createDrop,
  eventually,
  grabVia,
  heldOrders,
  openDropBody,
  openStackConnections,
  retireDrop,
  StackConnections,
  tokenFor,
  uniqueId,
  WebhookReceiver,
} from '@flashdrop/testing';
import { OwnNotifier, payWithScripts } from './own-notifier';

/**
 * A receiver that never answers holds its own few delivery slots and nothing else: another
 * brand's deliveries, recorded after the hanging brand's, all arrive while the hanging ones
 * are still open (none of them timed out yet), and the sale's routes answer meanwhile.
 */
describe('a hanging receiver', () => {
  let c: StackConnections;
  // A long attempt timeout, so the hanging attempts stay open for the whole test, and few
  // slots in all: a loop without a per-webhook bound would give every slot to the hanging one.
  const notifier = new OwnNotifier('hang', 3462, {
    WEBHOOK_TIMEOUT_MS: '60000',
    WEBHOOK_CONCURRENCY: '2',
    WEBHOOK_MAX_IN_FLIGHT: '8',
  });
  const hanging = new WebhookReceiver(() => 'hang');
  const healthy = new WebhookReceiver();
  const drops: string[] = [];

  beforeAll(async () => {
    c = await openStackConnections();
    await notifier.prepare();
    await Promise.all([hanging.start(), healthy.start()]);
  }, 60_000);

  afterAll(async () => {
    // The receivers first: closing the hanging connections ends the attempts the notifier
    // would otherwise wait out (up to their timeout) before it exits.
    await Promise.all([hanging.stop(), healthy.stop()]);
    await notifier.stop();
    for (const id of drops) await retireDrop(c.redis, id);
    await closeStackConnections(c);
  }, 60_000);

  it("does not delay another brand's deliveries, the grab or the stats", async () => {
    const slowBrand = uniqueId('brand');
    const otherBrand = uniqueId('brand');
    await notifier.register(slowBrand, hanging.url, ['order.paid']);
    await notifier.register(otherBrand, healthy.url, ['order.paid']);
    await notifier.start();

    // The hanging brand's events first, so that a first-come loop would serve them first.
    const slow = await heldOrders(
      c.inventory,
      Array.from({ length: 40 }, () => uniqueId('fan')),
      {
        brandId: slowBrand,
      },
    );
    drops.push(slow.drop.id);
    await payWithScripts(c.inventory, slow.orders);
    expect(await eventually(async () => hanging.hanging.size > 0, 60_000, 50)).toBe(true);

    const other = await heldOrders(
      c.inventory,
      Array.from({ length: 40 }, () => uniqueId('fan')),
      {
        brandId: otherBrand,
      },
    );
    drops.push(other.drop.id);
    await payWithScripts(c.inventory, other.orders);

    // The sale goes on meanwhile: grabs through the API answer, and the stats count them.
    const brandToken = tokenFor('brand');
    const sale = await createDrop(openDropBody({ quantity: 20 }), brandToken);
    const grabs = await Promise.all(
      Array.from({ length: 20 }, () => grabVia(sale.id, tokenFor('fan', uniqueId('fan')))),
    );
    expect(grabs.map((g) => g.status)).toEqual(Array(20).fill(201));
    const counted = await eventually(async () => {
      const stats = await api<{ held: number }>('GET', `/v1/drops/${sale.id}/stats`, {
        token: brandToken,
      });
      return stats.status === 200 && stats.body.held === 20;
    }, 30_000);
    expect(counted).toBe(true);

    const allArrived = await eventually(async () => healthy.accepted.size === 40, 45_000, 50);
    expect(allArrived).toBe(true);
    // ...while the hanging receiver still holds its first attempts, none given up yet, and
    // never more of them than its bound.
    expect(hanging.abandoned).toBe(0);
    expect(hanging.hanging.size).toBe(2);
    expect(hanging.received).toHaveLength(2);
    expect(new Set(healthy.accepted.keys()).size).toBe(40);
  }, 240_000);
});
