import { Principal } from '@flashdrop/contracts';
import { VerifiedTokens } from './verified-tokens';

const fan = (i: number): Principal => ({ sub: `fan-${i}`, role: 'fan', exp: 2_000_000_000 });

describe('VerifiedTokens', () => {
  it('never holds more than its capacity, and always the last half of it', () => {
    const cache = new VerifiedTokens(1000);
    for (let i = 0; i < 10_000; i++) {
      cache.set(`t${i}`, fan(i));
      expect(cache.size).toBeLessThanOrEqual(1000);
    }
    // The last 500 tokens set are all there, each with its own principal.
    for (let i = 9_500; i < 10_000; i++) expect(cache.get(`t${i}`)?.sub).toBe(`fan-${i}`);
    // Tokens more than a capacity back are gone.
    for (let i = 0; i < 9_000; i++) expect(cache.get(`t${i}`)).toBeUndefined();
  });

  it('a token found in the old generation moves to the young one and outlives the next turn', () => {
    const cache = new VerifiedTokens(4);
    cache.set('a', fan(1));
    cache.set('b', fan(2));
    cache.set('c', fan(3)); // the young generation {a, b} turns old
    expect(cache.get('a')?.sub).toBe('fan-1'); // moves a into the young {c, a}
    cache.set('d', fan(4)); // {c, a} turns old, {a, b} dropped
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.sub).toBe('fan-1');
    expect(cache.get('c')?.sub).toBe('fan-3');
    expect(cache.get('d')?.sub).toBe('fan-4');
  });

  it('delete removes a token from both generations', () => {
    const cache = new VerifiedTokens(4);
    cache.set('a', fan(1));
    cache.set('b', fan(2));
    cache.set('c', fan(3));
    cache.get('a'); // now in both
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')?.sub).toBe('fan-3');
  });
});
