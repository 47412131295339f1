import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The wallet's TCP messages signed with a shared secret (WALLET_SECRET), for a wallet that
 * listens beyond loopback. Every request the client sends carries `auth: {t, sig}`: `sig` is the
 * lower-case hex HMAC-SHA256, keyed by the secret, of `t.id.pattern.data` (`t` the sender's
 * clock in ms, `pattern` and `data` as JSON). The wallet answers a request whose signature is
 * missing, wrong, or older than SIGNATURE_TOLERANCE_MS with UNAUTHENTICATED and runs nothing.
 *
 * What it defends: nobody without the secret can have the wallet move money or read a balance.
 * What it does not: the transport is plain TCP, so a listener on the network reads the messages
 * and could replay one within the tolerance (debits and credits are idempotent on their order
 * attempt and reference, so a replay moves nothing twice). For confidentiality, run it on a
 * private network or through TLS (docs/security.md).
 */
export const SIGNATURE_TOLERANCE_MS = 60_000;

/** The pattern a request the wallet refused is handed to (apps/wallet answers UNAUTHENTICATED). */
export const UNSIGNED_PATTERN = 'wallet.unsigned';

/** The largest message either side buffers (a debit-many of 256 debits is ~80 KB). */
export const MAX_MESSAGE_CHARS = 1024 * 1024;

export interface WirePacket {
  readonly pattern: unknown;
  readonly data?: unknown;
  readonly id?: string;
  readonly auth?: { readonly t?: unknown; readonly sig?: unknown };
}

function signature(secret: string, t: number, packet: WirePacket): string {
  const signed = `${t}.${packet.id ?? ''}.${JSON.stringify(packet.pattern)}.${JSON.stringify(packet.data ?? null)}`;
  return createHmac('sha256', secret).update(signed).digest('hex');
}

/** The packet with its `auth`, as the client sends it. */
export function signPacket<P extends WirePacket>(secret: string, packet: P, now = Date.now()) {
  return { ...packet, auth: { t: now, sig: signature(secret, now, packet) } };
}

/** Whether a packet the wallet received carries a valid, recent signature. */
export function verifyPacket(secret: string, packet: WirePacket, now = Date.now()): boolean {
  const t = packet.auth?.t;
  const sig = packet.auth?.sig;
  if (
    typeof t !== 'number' ||
    typeof sig !== 'string' ||
    Math.abs(now - t) > SIGNATURE_TOLERANCE_MS
  ) {
    return false;
  }
  const expected = Buffer.from(signature(secret, t, packet));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The wallet's deserializer: a verified request goes on as Nest expects it (without `auth`);
 * any other request is handed to UNSIGNED_PATTERN, whose handler refuses it.
 */
export class SignedRequestDeserializer {
  constructor(private readonly secret: string) {}

  deserialize(value: WirePacket): { pattern: unknown; data: unknown; id?: string } {
    if (verifyPacket(this.secret, value)) {
      return { pattern: value.pattern, data: value.data, id: value.id };
    }
    return { pattern: UNSIGNED_PATTERN, data: undefined, id: value.id };
  }
}

/** The client's serializer: signs every packet it sends. */
export class SigningSerializer {
  constructor(private readonly secret: string) {}

  serialize(packet: WirePacket): WirePacket {
    return signPacket(this.secret, packet);
  }
}
