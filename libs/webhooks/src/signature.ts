import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every delivery carries (docs/api.md "Brands' fulfilment"). */
export const SIGNATURE_HEADER = 'Flashdrop-Signature';

/**
 * `t=UNIX_SECONDS,v1=HEX`: HEX is the lower-case hex HMAC-SHA256, keyed with the webhook's
 * secret, of `t + "." + body` (the exact bytes sent).
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export type SignatureCheck = 'ok' | 'malformed' | 'mismatch' | 'stale';

/**
 * What a receiver does with a delivery (docs/webhooks.md shows it in a few lines): recompute
 * the HMAC over the raw body, compare in constant time, and refuse a timestamp further than
 * `toleranceSeconds` from now (a replayed old delivery).
 */
export function checkSignature(
  header: string | undefined,
  secret: string,
  body: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): SignatureCheck {
  const parts = new Map(
    (header ?? '').split(',').map((p) => p.split('=', 2) as [string, string | undefined]),
  );
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(v1)) return 'malformed';
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex'))) return 'mismatch';
  const now = options.nowSeconds ?? Date.now() / 1000;
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return 'stale';
  return 'ok';
}
