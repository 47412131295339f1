import { createHmac, KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * The header segment of every HS256 token jsonwebtoken signs with default options
 * (`{"alg":"HS256","typ":"JWT"}`, base64url), signToken's among them. A token with exactly this
 * header takes `verifyStandardHs256`; any other header (another algorithm, `none`, a `kid`, the
 * same fields in another order) goes to jsonwebtoken as before.
 */
export const STANDARD_HS256_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString(
  'base64url',
);

/** One base64url segment of a JWS (jws's own character set); no padding. */
const SEGMENT = /^[A-Za-z0-9_-]+$/;

export type Hs256Result =
  { readonly ok: true; readonly claims: unknown } | { readonly ok: false; readonly reason: string };

/**
 * A token whose header is STANDARD_HS256_HEADER, checked the way jsonwebtoken's `verify(token,
 * key, { algorithms: ['HS256'] })` checks it, without its per-call work (decoding and parsing the
 * header, the options' copy and checks, the callback chain): in the phone rush every fan's token
 * is first seen at the grab, and jsonwebtoken's verify was ~16% of the API's busy time there
 * (load-tests/README.md "Where the time goes").
 *
 * What must stay true (token-verifier.spec.ts compares both paths on every case):
 * - the signature is compared as jws compares it: the expected HMAC-SHA256, base64url-encoded,
 *   against the token's third segment, in constant time; a differently encoded signature of the
 *   same bytes is refused like any other;
 * - `nbf`, when present, must be a number not after now; `exp`, when present, a number after now
 *   (now in whole seconds, no tolerance): jsonwebtoken's rules and reasons;
 * - a payload that is not JSON, or is `null`, is refused; one that is not an object is returned
 *   as jsonwebtoken returns it (the caller refuses it: not claims).
 * Returns `undefined` when the header is not the standard one: the caller asks jsonwebtoken.
 */
export function verifyStandardHs256(token: string, key: KeyObject): Hs256Result | undefined {
  const firstDot = token.indexOf('.');
  if (firstDot < 0 || token.slice(0, firstDot) !== STANDARD_HS256_HEADER) return undefined;
  const secondDot = token.indexOf('.', firstDot + 1);
  if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return refused('jwt malformed');
  const payload = token.slice(firstDot + 1, secondDot);
  const signature = token.slice(secondDot + 1);
  if (!SEGMENT.test(payload)) return refused('jwt malformed');
  if (signature.length === 0) return refused('jwt signature is required');
  if (!SEGMENT.test(signature)) return refused('jwt malformed');

  const expected = createHmac('sha256', key).update(token.slice(0, secondDot)).digest('base64url');
  const given = Buffer.from(signature);
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return refused('invalid signature');
  }

  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return refused('invalid token');
  }
  // jsonwebtoken: `null` fails as it reads its fields; another non-object is returned as is
  // (and the caller refuses it: not claims).
  if (claims === null) return refused('invalid token');
  if (typeof claims !== 'object') return { ok: true, claims };
  const { nbf, exp } = claims as { nbf?: unknown; exp?: unknown };
  const now = Math.floor(Date.now() / 1000);
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') return refused('invalid nbf value');
    if (nbf > now) return refused('jwt not active');
  }
  if (exp !== undefined) {
    if (typeof exp !== 'number') return refused('invalid exp value');
    if (now >= exp) return refused('jwt expired');
  }
  return { ok: true, claims };
}

function refused(reason: string): Hs256Result {
  return { ok: false, reason };
}
