import { Inventory } from '@flashdrop/inventory';
import {
  apiBaseUrl,
  browserTestsMaySkip,
  CHROMIUM_ARGS,
  createDrop,
  ensureChromium,
  fanIds,
  fund,
  grabVia,
  moveGroupDeadline,
  openDropBody,
  pay,
  redisNow,
  REPO_ROOT,
  testConfig,
  tokenFor,
} from '@flashdrop/testing';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { createOpenDrop, mixedBurst, retireOpenDrops } from './sale-traffic';

// No browser fails these tests (a skip would let a run pass with the dashboard never drawn);
// only by hand, outside CI, may SKIP_BROWSER_TESTS=1 skip them.
const chromiumFound = ensureChromium();
const skipped = 'missing' in chromiumFound && browserTestsMaySkip();
const describeWithBrowser = skipped ? describe.skip : describe;
if (skipped) console.warn(`skipping the /ops browser test (SKIP_BROWSER_TESTS=1): no browser`);

/** Where the screenshots go: docs/ when OPS_SCREENSHOT_DIR says so, else the data dir. */
const screenshotDir =
  process.env.OPS_SCREENSHOT_DIR ?? process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');

// Page-side expressions are strings: this file is compiled without the DOM's types.
const textOf = (id: string) => `document.getElementById(${JSON.stringify(id)})?.textContent`;
const textIsNot = (id: string, value: string) => `${textOf(id)} !== ${JSON.stringify(value)}`;

/**
 * The operators' dashboard in a real headless Chromium, on the public origin, during a rush:
 * the page connects to the live stream and its numbers move. Also checks it fits a laptop
 * screen (1366x768) and a 1920x1080 one without sideways scrolling.
 */
describeWithBrowser('GET /ops in a real browser during a rush', () => {
  let browser: Browser;
  let redis: RedisClient;

  beforeAll(async () => {
    if ('missing' in chromiumFound) {
      throw new Error(
        `no browser for the /ops test: ${chromiumFound.missing} (install Debian's chromium; ` +
          `by hand, outside CI, SKIP_BROWSER_TESTS=1 skips this file)`,
      );
    }
    browser = await chromium.launch({ executablePath: chromiumFound.path, args: CHROMIUM_ARGS });
    redis = connectRedis(testConfig());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await retireOpenDrops();
    redis?.disconnect();
  });

  const text = (page: Page, id: string) => page.locator(`#${id}`).innerText();

  it('shows the live numbers moving as fans rush a drop', async () => {
    const inventory = new Inventory(redis);
    const dropId = await createOpenDrop(inventory, { quantity: 600, title: 'Phone · launch demo' });
    await mixedBurst(inventory, dropId, 60, 'warm');

    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(
      `${apiBaseUrl()}/ops?access_token=${tokenFor('operator')}&drop=${encodeURIComponent(dropId)}`,
    );
    await page.waitForFunction('Number(document.body.dataset.frames ?? 0) > 0');
    expect(await text(page, 'live-text')).toBe('live');
    const before = {
      remaining: await text(page, 'remaining'),
      attempts: await text(page, 'attempts'),
    };

    // The rush: 30 waves of reservations, shares, grabs, payments and expiries (a few seconds,
    // selling the drop out) while the page watches.
    let wave = 0;
    const rush = (async () => {
      while (wave < 30) {
        await Promise.all([
          mixedBurst(inventory, dropId, 50, `w${wave++}`),
          new Promise((r) => setTimeout(r, 150)),
        ]);
      }
    })();
    try {
      await page.waitForFunction(textIsNot('attempts', before.attempts), null, { timeout: 15_000 });
      await page.waitForFunction(textIsNot('remaining', before.remaining), null, {
        timeout: 15_000,
      });
    } finally {
      await rush;
    }
    // Once the rush is over the page settles on the truth.
    const remaining = String((await inventory.viewDrop(dropId))?.remaining.toLocaleString('en-US'));
    await page.waitForFunction(`${textOf('remaining')} === ${JSON.stringify(remaining)}`, null, {
      timeout: 15_000,
    });
    expect(Number((await text(page, 'attempts')).replace(/,/g, ''))).toBeGreaterThan(
      Number(before.attempts.replace(/,/g, '')),
    );
    expect(await page.locator('#referrers tr').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);

    for (const [width, height] of [
      [1366, 768],
      [1920, 1080],
    ]) {
      await page.setViewportSize({ width, height });
      await page.waitForTimeout(600);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(screenshotDir, `ops-dashboard-${width}x${height}.png`) });
    }
    console.log(`/ops screenshots in ${screenshotDir}`);
    await page.close();
  }, 120_000);

  it("shows a group-buy drop's groups: units and money in escrow, groups complete and failed, refunds", async () => {
    const drop = await createDrop(openDropBody({ quantity: 10, groupSize: 2, priceMinor: 5_000 }));
    const [a, b, c, d] = fanIds(4);
    await fund([a, b, c], 5_000);
    const start = async (fan: string) => (await grabVia(drop.id, tokenFor('fan', fan), {})).body;
    const joinOf = async (fan: string, groupId: string) =>
      (await grabVia(drop.id, tokenFor('fan', fan), { groupId })).body;
    // One group completes (both pay), one waits with a paid member in escrow.
    const first = await start(a);
    const second = await joinOf(b, String(first.groupId));
    const waiting = await start(c);
    await joinOf(d, String(waiting.groupId));
    expect((await pay(first.id, a)).body.status).toBe('grouped');
    expect((await pay(second.id, b)).body.status).toBe('paid');
    expect((await pay(waiting.id, c)).body.status).toBe('grouped');

    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(
      `${apiBaseUrl()}/ops?access_token=${tokenFor('operator')}&drop=${encodeURIComponent(drop.id)}`,
    );
    const shows = (id: string, value: string) =>
      page.waitForFunction(`${textOf(id)} === ${JSON.stringify(value)}`, null, {
        timeout: 30_000,
      });
    await shows('groups-completed', '1');
    await shows('grouped', '1');
    await shows('groups-failed', '0');
    expect(await text(page, 'escrow')).not.toBe('—');
    const escrowWhileWaiting = await text(page, 'escrow');

    // Its deadline passes: the group sweeper fails it, the paid member is refunded from escrow.
    await moveGroupDeadline(redis, drop.id, String(waiting.groupId), (await redisNow(redis)) - 1);
    await shows('groups-failed', '1');
    await shows('grouped', '0');
    await shows('refunded', '1');
    expect(await text(page, 'escrow')).not.toBe(escrowWhileWaiting);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
