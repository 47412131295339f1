import {
  createKafka,
  encodeEnvelope,
  EventEnvelope,
  EventHeaders,
  EventVersions,
  Topics,
  topicName,
} from '@flashdrop/events';
import { Inventory } from '@flashdrop/inventory';
import {
  api,
  apiBaseUrl,
  browserTestsMaySkip,
  CHROMIUM_ARGS,
  dropDefinition,
  ensureChromium,
  eventually,
  redisNow,
  retireDrop,
  testConfig,
  tokenFor,
} from '@flashdrop/testing';
import Redis from 'ioredis';
import { Browser, chromium } from 'playwright-core';

// No browser fails this test, as the dashboard's other browser test (only by hand, outside CI,
// may SKIP_BROWSER_TESTS=1 skip it).
const chromiumFound = ensureChromium();
const describeWithBrowser =
  'missing' in chromiumFound && browserTestsMaySkip() ? describe.skip : describe;

const MINUTE = 60_000;

/**
 * The dashboard opened after a sale has ended shows the rush, not just the last minutes. The
 * sale's history is published as the relay would have published it 30 minutes ago: a rush of
 * 120 grabs in 4 seconds (half of them paid), then, 25 minutes later, the last holds expiring;
 * the page is opened 5 minutes after that. A chart of the last two minutes would show nothing.
 */
describeWithBrowser('GET /ops after the sale', () => {
  let browser: Browser;
  let redis: Redis;
  let dropId: string;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: 'path' in chromiumFound ? chromiumFound.path : undefined,
      args: CHROMIUM_ARGS,
    });
    redis = new Redis(testConfig().REDIS_URL);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dropId) await retireDrop(redis, dropId);
    redis?.disconnect();
  });

  it('draws the whole sale: the rush half an hour ago is on the chart', async () => {
    const inventory = new Inventory(redis);
    const now = await redisNow(redis);
    const def = dropDefinition(now, {
      title: 'Phone · the sale that ended',
      quantity: 120,
      reservationRequired: false,
      reservationOpensAt: undefined,
      reservationClosesAt: undefined,
      saleStartsAt: now - 31 * MINUTE,
      saleEndsAt: now - 4 * MINUTE,
      createdAt: now - 60 * MINUTE,
    });
    await inventory.createDrop(def);
    dropId = def.id;

    const rushAt = now - 30 * MINUTE;
    const events: EventEnvelope[] = [];
    let n = 0;
    const at = (ms: number) => ({
      id: `${dropId}:${ms}-${n++}`,
      occurredAt: new Date(ms).toISOString(),
    });
    const event = (type: keyof typeof EventVersions, ms: number, data: object): EventEnvelope => ({
      ...at(ms),
      type,
      version: EventVersions[type],
      key: dropId,
      data: { dropId, ...data },
    });
    events.push(
      event('drop.created', rushAt - MINUTE, {
        brandId: def.brandId,
        quantity: 120,
        priceMinor: def.priceMinor,
        currency: 'CNY',
      }),
    );
    for (let i = 0; i < 120; i++) {
      const ms = rushAt + Math.floor(i / 30) * 1000;
      const order = {
        orderId: `${dropId}-${String(i).padStart(16, '0')}`,
        fanId: `f${i}`,
        quantity: 1,
      };
      events.push(
        event('grab.accepted', ms, {
          ...order,
          amountMinor: def.priceMinor,
          expiresAt: ms + 600_000,
          remaining: 119 - i,
        }),
      );
    }
    for (let i = 0; i < 60; i++) {
      const order = {
        orderId: `${dropId}-${String(i).padStart(16, '0')}`,
        fanId: `f${i}`,
        quantity: 1,
      };
      events.push(event('order.paid', rushAt + 8_000, { ...order, amountMinor: def.priceMinor }));
    }
    for (let i = 60; i < 120; i++) {
      const order = {
        orderId: `${dropId}-${String(i).padStart(16, '0')}`,
        fanId: `f${i}`,
        quantity: 1,
      };
      events.push(event('hold.expired', now - 5 * MINUTE, { ...order, remaining: i - 59 }));
    }
    const kafka = createKafka('ops-after-sale-test', testConfig().kafkaBrokers);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: topicName(Topics.sales, testConfig().KAFKA_TOPIC_PREFIX),
        messages: events.map((e) => ({
          key: dropId,
          value: encodeEnvelope(e),
          headers: { [EventHeaders.id]: e.id, [EventHeaders.type]: e.type },
        })),
      });
    } finally {
      await producer.disconnect();
    }
    const operator = tokenFor('operator');
    const counted = await eventually(async () => {
      const stats = await api<{ expired: number; paid: number }>(
        'GET',
        `/v1/drops/${dropId}/stats`,
        {
          token: operator,
        },
      );
      return stats.body.expired === 60 && stats.body.paid === 60;
    }, 30_000);
    expect(counted).toBe(true);

    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(
      `${apiBaseUrl()}/ops?access_token=${operator}&drop=${encodeURIComponent(dropId)}`,
    );
    await page.waitForFunction('Number(document.body.dataset.frames ?? 0) > 0');
    const chart = await page.evaluate<{
      grabbed: number[];
      paid: number[];
      labels: number;
    }>(`(() => {
      const c = Chart.getChart(document.getElementById('chart-sell'));
      return { grabbed: c.data.datasets[0].data, paid: c.data.datasets[1].data, labels: c.data.labels.length };
    })()`);
    // Every unit of the rush is on the chart, in the bars of its seconds, and the paid line too.
    expect(chart.grabbed.reduce((a, b) => a + b, 0)).toBe(120);
    expect(Math.max(...chart.grabbed)).toBeGreaterThanOrEqual(30);
    expect(chart.paid.reduce((a, b) => a + b, 0)).toBe(60);
    expect(chart.labels).toBeLessThanOrEqual(300);
    expect(await page.locator('#sell-span').textContent()).toContain('whole sale');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
