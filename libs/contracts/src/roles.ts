/** The three roles a token's `role` claim may carry (docs/api.md "Auth"). */
export const Roles = ['fan', 'brand', 'operator'] as const;
export type Role = (typeof Roles)[number];

/** Who is calling: the verified claims of the bearer token. */
export interface Principal {
  readonly sub: string;
  readonly role: Role;
  /** The fan's membership tier on the platform (docs/api.md "Campaigns"), when the token has one. */
  readonly tier?: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}

/** The form of a membership tier: a token's `tier` claim and a drop's `audienceTier` alike. */
export const TIER_PATTERN = /^[a-z0-9_-]{1,32}$/;
