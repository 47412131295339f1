import { DomainError } from '@flashdrop/contracts';
import { sign } from 'jsonwebtoken';
import { signToken, TokenVerifier } from './token-verifier';

const SECRET = 'unit-test-secret-0123456789';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DomainError ? e.code : 'OTHER';
  }
  return undefined;
}

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier(SECRET, 1_000_000);

  it('accepts a good token and returns the claims', () => {
    const p = verifier.verifyHeader(`Bearer ${signToken(SECRET, { sub: 'fan-1', role: 'fan' })}`);
    expect(p.sub).toBe('fan-1');
    expect(p.role).toBe('fan');
    expect(p.tier).toBeUndefined();
  });

  it('carries a membership tier when the token has one', () => {
    const token = signToken(SECRET, { sub: 'fan-2', role: 'fan', tier: 'gold_2' });
    expect(verifier.verify(token)).toMatchObject({ sub: 'fan-2', tier: 'gold_2' });
  });

  it.each([
    ['missing header', undefined],
    ['not bearer', 'Basic abc'],
    ['garbage', 'Bearer not.a.jwt'],
    ['wrong secret', `Bearer ${signToken('another-secret-0123456789', { sub: 'x', role: 'fan' })}`],
    [
      'expired',
      `Bearer ${sign({ sub: 'x', role: 'fan', exp: Math.floor(Date.now() / 1000) - 10 }, SECRET)}`,
    ],
    [
      'alg none',
      `Bearer ${sign({ sub: 'x', role: 'fan' }, '', { algorithm: 'none', expiresIn: 60 })}`,
    ],
    ['unknown role', `Bearer ${sign({ sub: 'x', role: 'admin' }, SECRET, { expiresIn: 60 })}`],
    ['no exp', `Bearer ${sign({ sub: 'x', role: 'fan' }, SECRET)}`],
    [
      'a tier of the wrong form',
      `Bearer ${sign({ sub: 'x', role: 'fan', tier: 'Gold' }, SECRET, { expiresIn: 60 })}`,
    ],
    [
      'an empty tier',
      `Bearer ${sign({ sub: 'x', role: 'fan', tier: '' }, SECRET, { expiresIn: 60 })}`,
    ],
    [
      'a tier of 33 chars',
      `Bearer ${sign({ sub: 'x', role: 'fan', tier: 'a'.repeat(33) }, SECRET, { expiresIn: 60 })}`,
    ],
    [
      'a tier that is not a string',
      `Bearer ${sign({ sub: 'x', role: 'fan', tier: 7 }, SECRET, { expiresIn: 60 })}`,
    ],
    [
      'HS512',
      `Bearer ${sign({ sub: 'x', role: 'fan' }, SECRET, { algorithm: 'HS512', expiresIn: 60 })}`,
    ],
  ])('refuses %s with UNAUTHENTICATED', (_name, header) => {
    expect(codeOf(() => verifier.verifyHeader(header))).toBe('UNAUTHENTICATED');
  });

  it('refuses a cached token once it expires', () => {
    // A minute of life, then the clock moves two past it: a 1 s token flaked when the second
    // turned between signing and the first check on a loaded box.
    const token = sign({ sub: 'y', role: 'fan', exp: Math.floor(Date.now() / 1000) + 60 }, SECRET);
    expect(verifier.verify(token).sub).toBe('y');
    const now = Date.now;
    Date.now = () => now() + 120_000;
    try {
      expect(codeOf(() => verifier.verify(token))).toBe('UNAUTHENTICATED');
    } finally {
      Date.now = now;
    }
  });
});
