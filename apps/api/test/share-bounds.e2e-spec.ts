import { connectRedis, RedisClient } from '@flashdrop/persistence';
import {
  api,
  createDrop,
  dropBody,
  dropKeys,
  errorOf,
  eventually,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

interface Stats {
  shares: number;
  sharesByChannel: Record<string, number>;
}

/**
 * Shares are bounded (issue 11): a fan may post SHARE_RATE_LIMIT_PER_MINUTE (30) a minute, then
 * 429 with Retry-After; a drop counts its first 20 distinct channels by name and every further
 * one under `other`, so a stats read and a live frame carry at most 21 channels.
 */
describe('share bounds (running stack)', () => {
  let redis: RedisClient;
  beforeAll(() => {
    redis = connectRedis(testConfig());
  });
  afterAll(async () => {
    await redis.quit();
  });

  const share = (dropId: string, token: string, channel: string) =>
    api<{ countedAs?: string }>('POST', `/v1/drops/${dropId}/shares`, {
      token,
      body: { channel },
    });

  it('one fan past 30 shares a minute gets 429 with Retry-After, and those shares are not counted', async () => {
    const drop = await createDrop(dropBody());
    const token = tokenFor('fan', uniqueId('fan'));
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => share(drop.id, token, 'weibo')),
    );
    const accepted = answers.filter((r) => r.status === 202).length;
    const limited = answers.filter((r) => r.status === 429);
    expect(accepted).toBeLessThanOrEqual(30);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    for (const r of limited) {
      expect(errorOf(r)).toBe('TOO_MANY_REQUESTS');
      const retry = Number(r.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
    }
    expect(Number(await redis.hget(dropKeys(drop.id).stats, 'shares'))).toBe(accepted);
    // No refused share reached the outbox (the trimmer may already have taken accepted ones).
    const entries = await redis.xrange(dropKeys(drop.id).events, '-', '+');
    const shareEvents = entries.filter(([, fields]) => fields.includes('share.recorded'));
    expect(shareEvents.length).toBeLessThanOrEqual(accepted);
    // Another fan shares as before.
    expect((await share(drop.id, tokenFor('fan', uniqueId('fan')), 'weibo')).status).toBe(202);
  });

  it('past 20 distinct channels a drop counts shares under `other`; every share still counts', async () => {
    const brand = tokenFor('brand', uniqueId('brand'));
    const drop = await createDrop(dropBody(), brand);
    const channels = Array.from({ length: 25 }, (_, i) => `ch-${i}`);
    const counted: string[] = [];
    for (const channel of channels) {
      const r = await share(drop.id, tokenFor('fan', uniqueId('fan')), channel);
      expect(r.status).toBe(202);
      counted.push(String(r.body.countedAs));
    }
    // A named channel already counted still counts by name past the cap.
    expect((await share(drop.id, tokenFor('fan', uniqueId('fan')), 'ch-0')).body.countedAs).toBe(
      'ch-0',
    );
    expect(counted.slice(0, 20)).toEqual(channels.slice(0, 20));
    expect(counted.slice(20)).toEqual(Array(5).fill('other'));
    expect(await redis.scard(dropKeys(drop.id).shareChannels)).toBe(20);

    let stats: Stats | undefined;
    expect(
      await eventually(async () => {
        stats = (await api<Stats>('GET', `/v1/drops/${drop.id}/stats`, { token: brand })).body;
        return stats.shares === 26;
      }, 15_000),
    ).toBe(true);
    expect(Object.keys(stats!.sharesByChannel)).toHaveLength(21);
    expect(stats!.sharesByChannel['other']).toBe(5);
    expect(stats!.sharesByChannel['ch-0']).toBe(2);
  });
});
