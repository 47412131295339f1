import { Inventory } from '@flashdrop/inventory';
import {
  apiBaseUrl,
  browserTestsMaySkip,
  CHROMIUM_ARGS,
  ensureChromium,
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
});
