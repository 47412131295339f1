import { Principal } from '@flashdrop/contracts';
import { SWEEP_EVERY_MS, VerifiedTokens } from './verified-tokens';

const EXP = 2_000_000_000;
const fan = (i: number, exp = EXP): Principal => ({ sub: `fan-${i}`, role: 'fan', exp });

describe('VerifiedTokens', () => {
  it('keeps the first tokens up to its capacity and never holds more', () => {
    const cache = new VerifiedTokens(1000);
    for (let i = 0; i < 10_000; i++) {
      cache.set(`t${i}`, fan(i));
      expect(cache.size).toBeLessThanOrEqual(1000);
    }
    for (let i = 0; i < 1000; i++) expect(cache.get(`t${i}`)?.sub).toBe(`fan-${i}`);
    for (let i = 1000; i < 10_000; i++) expect(cache.get(`t${i}`)).toBeUndefined();
  });

  it('survives a wave: every fan of the window is still there when the rush comes back', () => {
    // The pattern the two-generation cache lost entirely: more fans in than half its bound,
    // then the same fans again in the same order.
    const cache = new VerifiedTokens(1000);
    for (let i = 0; i < 900; i++) cache.set(`t${i}`, fan(i));
    let hits = 0;
    for (let i = 0; i < 900; i++) {
      if (cache.get(`t${i}`)) hits++;
      else cache.set(`t${i}`, fan(i));
    }
    expect(hits).toBe(900);
  });

  it('never answers a token at or after its exp', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokens(10, () => now);
    cache.set('a', fan(1, 1_005)); // exp 1,005 s = 1,005,000 ms
    now = 1_004_999;
    expect(cache.get('a')?.sub).toBe('fan-1');
    now = 1_005_000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0); // dropped when found expired
    now = 1_004_999; // a clock stepping back does not bring it back either
    expect(cache.get('a')).toBeUndefined();
  });

  it('a full cache makes room as its tokens expire, sweeping at most once per interval', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokens(4, () => now);
    cache.set('a', fan(1, 1_010));
    cache.set('b', fan(2, 1_010));
    cache.set('c', fan(3, 1_015));
    cache.set('d', fan(4, 1_015));
    cache.set('e', fan(5)); // full, nothing expired: not cached
    expect(cache.get('e')).toBeUndefined();
    now = 1_010_000; // a and b expire
    cache.set('e', fan(5));
    expect(cache.size).toBe(3); // the sweep took a and b, e came in
    expect(cache.get('e')?.sub).toBe('fan-5');
    cache.set('f', fan(6));
    expect(cache.size).toBe(4);
    now = 1_015_000; // c and d expire, but the last sweep was 5 s ago
    expect(SWEEP_EVERY_MS).toBeGreaterThan(5_000);
    cache.set('g', fan(7));
    expect(cache.get('g')).toBeUndefined();
    now = 1_010_000 + SWEEP_EVERY_MS;
    cache.set('g', fan(7));
    expect(cache.get('g')?.sub).toBe('fan-7');
    expect(cache.get('c')).toBeUndefined();
    expect(cache.size).toBe(3); // e, f, g
  });

  it('a token already held is updated even when full; delete removes it', () => {
    const cache = new VerifiedTokens(2);
    cache.set('a', fan(1));
    cache.set('b', fan(2));
    cache.set('a', fan(3));
    expect(cache.get('a')?.sub).toBe('fan-3');
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.sub).toBe('fan-2');
  });
});
