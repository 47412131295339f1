import { signToken } from '@flashdrop/auth';
import { Role } from '@flashdrop/contracts';
import { randomUUID } from 'node:crypto';
import { testConfig } from './test-env';

/** A valid token for the test stack. */
export function tokenFor(
  role: Role,
  sub: string = `${role}-${randomUUID().slice(0, 8)}`,
  tier?: string,
): string {
  return signToken(testConfig().JWT_SECRET, { sub, role, tier });
}

/** A fresh id, unique across test runs, for fans, brands and operators. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}
