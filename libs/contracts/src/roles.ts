/** The three roles a token's `role` claim may carry (docs/api.md "Auth"). */
export const Roles = ['fan', 'brand', 'operator'] as const;
export type Role = (typeof Roles)[number];

/** Who is calling: the verified claims of the bearer token. */
export interface Principal {
  readonly sub: string;
  readonly role: Role;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
}
