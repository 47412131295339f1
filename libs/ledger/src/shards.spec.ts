import { shardOf, SYSTEM_ACCOUNT_SHARDS } from './shards';

describe('shardOf', () => {
  it('is stable and within range', () => {
    expect(shardOf('order-1')).toBe(shardOf('order-1'));
    for (let i = 0; i < 1000; i++) {
      const s = shardOf(`o-${i}`);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(SYSTEM_ACCOUNT_SHARDS);
    }
  });

  it('spreads keys over every shard', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(shardOf(`order-${i}`));
    expect(seen.size).toBe(SYSTEM_ACCOUNT_SHARDS);
  });
});
