import { createHmac, createSecretKey } from 'node:crypto';
import { sign, verify } from 'jsonwebtoken';
import { STANDARD_HS256_HEADER, verifyStandardHs256 } from './hs256';

const SECRET = 'unit-test-secret-0123456789';
const KEY = createSecretKey(Buffer.from(SECRET));
const now = () => Math.floor(Date.now() / 1000);
const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** A token with the standard header over any payload text, signed with `secret`. */
function handMade(payloadText: string, secret = SECRET): string {
  const input = `${STANDARD_HS256_HEADER}.${b64(payloadText)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** What jsonwebtoken (the reference) says about a token: its claims, or refused. */
function reference(token: string): { ok: true; claims: unknown } | { ok: false } {
  try {
    return { ok: true, claims: verify(token, KEY, { algorithms: ['HS256'] }) };
  } catch {
    return { ok: false };
  }
}

const good = sign({ sub: 'fan-1', role: 'fan' }, SECRET, { expiresIn: 60 });
const [header, payload, signature] = good.split('.');
/** The last character of a 32-byte base64url signature carries 2 unused bits: flip one. */
const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(
  signature.slice(-1),
);
const sameBytesOtherText =
  signature.slice(0, -1) +
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex ^ 1];

const cases: [string, string][] = [
  ['a good token', good],
  [
    'a good token with a tier',
    sign({ sub: 'f', role: 'fan', tier: 'gold' }, SECRET, { expiresIn: 60 }),
  ],
  [
    'another secret',
    sign({ sub: 'fan-1', role: 'fan' }, 'another-secret-0123456789', { expiresIn: 60 }),
  ],
  [
    'a changed payload',
    `${header}.${b64('{"sub":"fan-2","role":"fan","exp":9999999999}')}.${signature}`,
  ],
  ['a changed signature', `${header}.${payload}.${signature.slice(0, -2)}AA`],
  ['the same signature bytes, written otherwise', `${header}.${payload}.${sameBytesOtherText}`],
  ['no signature', `${header}.${payload}.`],
  ['a fourth segment', `${good}.x`],
  ['two segments', `${header}.${payload}`],
  ['a character outside base64url', `${header}.${payload}!.${signature}`],
  ['an empty payload', `${header}..${signature}`],
  ['expired', sign({ sub: 'x', role: 'fan', exp: now() - 10 }, SECRET)],
  ['exp a string', handMade(`{"sub":"x","role":"fan","exp":"${now() + 60}"}`)],
  ['no exp', sign({ sub: 'x', role: 'fan' }, SECRET)],
  ['nbf in the future', sign({ sub: 'x', role: 'fan', nbf: now() + 60, exp: now() + 120 }, SECRET)],
  ['nbf in the past', sign({ sub: 'x', role: 'fan', nbf: now() - 60, exp: now() + 120 }, SECRET)],
  ['nbf a string', handMade(`{"sub":"x","role":"fan","nbf":"0","exp":${now() + 60}}`)],
  ['a payload that is not JSON', handMade('not json')],
  ['a payload that is a number', handMade('42')],
  ['a payload that is null', handMade('null')],
  ['a payload that is an array', handMade('[1,2]')],
];

describe('verifyStandardHs256 (the grab path of the token check)', () => {
  it.each(cases)('agrees with jsonwebtoken on %s', (_name, token) => {
    const mine = verifyStandardHs256(token, KEY);
    expect(mine).toBeDefined();
    const ref = reference(token);
    expect(mine!.ok).toBe(ref.ok);
    if (mine!.ok && ref.ok && typeof ref.claims === 'object') {
      expect(mine!.claims).toEqual(ref.claims);
    }
  });

  it('accepts the good token and refuses the forgeries (not all "agreeing" by refusing)', () => {
    expect(verifyStandardHs256(good, KEY)).toMatchObject({ ok: true, claims: { sub: 'fan-1' } });
    expect(verifyStandardHs256(`${header}.${payload}.${sameBytesOtherText}`, KEY)).toEqual({
      ok: false,
      reason: 'invalid signature',
    });
  });

  it('holds the edges of exp and nbf to the second, as jsonwebtoken does', () => {
    const t = now() + 1000;
    const at = jest.spyOn(Date, 'now').mockReturnValue(t * 1000 + 500);
    try {
      const edges: [string, boolean][] = [
        [sign({ sub: 'x', role: 'fan', exp: t }, SECRET), false],
        [sign({ sub: 'x', role: 'fan', exp: t + 1 }, SECRET), true],
        [sign({ sub: 'x', role: 'fan', nbf: t, exp: t + 60 }, SECRET), true],
        [sign({ sub: 'x', role: 'fan', nbf: t + 1, exp: t + 60 }, SECRET), false],
      ];
      for (const [token, accepted] of edges) {
        expect(reference(token).ok).toBe(accepted);
        expect(verifyStandardHs256(token, KEY)?.ok).toBe(accepted);
      }
    } finally {
      at.mockRestore();
    }
  });

  it.each([
    ['HS512', sign({ sub: 'x', role: 'fan' }, SECRET, { algorithm: 'HS512', expiresIn: 60 })],
    ['alg none', sign({ sub: 'x', role: 'fan' }, '', { algorithm: 'none', expiresIn: 60 })],
    [
      'a kid in the header',
      sign({ sub: 'x', role: 'fan' }, SECRET, { expiresIn: 60, keyid: 'k1' }),
    ],
    [
      'the same header, fields in another order',
      `${b64('{"typ":"JWT","alg":"HS256"}')}.${payload}.${signature}`,
    ],
    ['no dot at all', 'garbage'],
  ])('leaves %s to jsonwebtoken', (_name, token) => {
    expect(verifyStandardHs256(token, KEY)).toBeUndefined();
  });
});
