import { DomainError, Principal, Role, Roles, TIER_PATTERN } from '@flashdrop/contracts';
import { JsonWebTokenError, sign, verify } from 'jsonwebtoken';
import { createSecretKey, KeyObject } from 'node:crypto';
import { verifyStandardHs256 } from './hs256';
import { VerifiedTokens } from './verified-tokens';

/**
 * Verifies HS256 bearer tokens (docs/api.md "Auth") with `jsonwebtoken`, synchronously, and keeps
 * a bounded cache of tokens already verified so the grab's hot path pays for the HMAC once per
 * token, not once per request. A cached token is still refused once its `exp` has passed.
 */
export class TokenVerifier {
  private readonly cache: VerifiedTokens;
  private readonly key: KeyObject;

  /** `cacheCapacity`: tokens cached at most (config AUTH_TOKEN_CACHE_MAX says how it is sized). */
  constructor(secret: string, cacheCapacity: number) {
    this.key = secretKey(secret);
    this.cache = new VerifiedTokens(cacheCapacity);
  }

  /** Returns the caller, or throws DomainError UNAUTHENTICATED. */
  verify(token: string): Principal {
    // The cache answers a token only before its exp; an expired one is checked again below
    // and refused there ('jwt expired').
    const cached = this.cache.get(token);
    if (cached) return cached;
    const principal = this.verifyUncached(token);
    this.cache.set(token, principal);
    return principal;
  }

  /** Reads `Authorization: Bearer <jwt>`; throws UNAUTHENTICATED when absent or malformed. */
  verifyHeader(header: string | undefined): Principal {
    if (!header) throw unauthenticated('missing bearer token');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated('malformed Authorization header');
    return this.verify(match[1]);
  }

  private verifyUncached(token: string): Principal {
    const claims = this.checkSignature(token);
    if (typeof claims !== 'object' || claims === null) throw unauthenticated('token has no claims');
    const { sub, role, exp, tier } = claims as Record<string, unknown>;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) {
      throw unauthenticated('token has no valid sub');
    }
    if (typeof role !== 'string' || !(Roles as readonly string[]).includes(role)) {
      throw unauthenticated('token has no valid role');
    }
    if (typeof exp !== 'number') throw unauthenticated('token has no exp');
    if (tier === undefined) return { sub, role: role as Role, exp };
    // A malformed tier is a malformed token: guessing what it meant could admit a fan to a
    // members-only drop they are not a member of.
    if (typeof tier !== 'string' || !TIER_PATTERN.test(tier)) {
      throw unauthenticated('token has an invalid tier (1..32 of a-z0-9_-)');
    }
    return { sub, role: role as Role, exp, tier };
  }

  /** The token's claims once its signature, `exp` and `nbf` hold; throws UNAUTHENTICATED. */
  private checkSignature(token: string): unknown {
    // The header every HS256 token of ours has: checked here, same rules (hs256.ts).
    const standard = verifyStandardHs256(token, this.key);
    if (standard) {
      if (!standard.ok) throw unauthenticated(standard.reason);
      return standard.claims;
    }
    try {
      // `algorithms` pins HS256: `alg: none` and asymmetric-key confusion are refused here.
      return verify(token, this.key, { algorithms: ['HS256'] });
    } catch (e) {
      const reason = e instanceof JsonWebTokenError ? e.message : 'invalid token';
      throw unauthenticated(reason);
    }
  }
}

/** 403 FORBIDDEN unless the caller's role is one of `roles` (Nest routes and lean routes alike). */
export function assertRole(principal: Principal, roles: readonly Role[]): void {
  if (!roles.includes(principal.role)) {
    throw new DomainError('FORBIDDEN', `this route is for role ${roles.join(' or ')}`);
  }
}

function unauthenticated(message: string): DomainError {
  return new DomainError('UNAUTHENTICATED', message);
}

/**
 * The secret as a KeyObject, made once per secret. jsonwebtoken turns a string secret into a
 * KeyObject on every call, which measured ~300 us per verify or sign here against ~13 us with
 * the KeyObject made once (load-tests/README.md): at 240,000 distinct fans in a rush, that was
 * the grab's largest cost.
 */
const keys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

/** Issues a token (demo, tests, load generators). Production tokens come from the platform. */
export function signToken(
  secret: string,
  claims: { sub: string; role: Role; tier?: string },
  ttlSeconds = 3600,
): string {
  const { sub, role, tier } = claims;
  const payload = tier === undefined ? { sub, role } : { sub, role, tier };
  return sign(payload, secretKey(secret), {
    algorithm: 'HS256',
    expiresIn: ttlSeconds,
  });
}
