import { signToken } from '@flashdrop/auth';
import { Role } from '@flashdrop/contracts';
import type { DropSpec } from '../scenarios/scenario';

/** The stack under test: its origin and the secret its tokens are signed with. */
export interface Stack {
  readonly origin: string;
  readonly jwtSecret: string;
}

export interface DropTimes {
  readonly reservationOpensAt?: number;
  readonly reservationClosesAt?: number;
  readonly saleStartsAt: number;
  readonly saleEndsAt?: number;
}

export function tokenOf(
  stack: Stack,
  sub: string,
  role: Role,
  ttlSeconds = 3600,
  tier?: string,
): string {
  return signToken(stack.jwtSecret, { sub, role, tier }, ttlSeconds);
}

/**
 * Tokens of `count` distinct fans `fan-<run>-<i>`, signed once before a run (not during it);
 * with `tier`, each carries that membership tier (a members-only drop's audience).
 */
export function fanTokens(stack: Stack, run: string, count: number, tier?: string): string[] {
  const tokens = new Array<string>(count);
  for (let i = 0; i < count; i++) tokens[i] = tokenOf(stack, fanId(run, i), 'fan', 7200, tier);
  return tokens;
}

export function fanId(run: string, i: number): string {
  return `fan-${run}-${i}`;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** One JSON call outside the measured runs (set-up, checks); throws on an unexpected status. */
export async function call<T>(
  stack: Stack,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  expect: number[] = [200, 201],
): Promise<T> {
  const send = () =>
    fetch(`${stack.origin}${path}`, {
      method,
      headers: {
        ...(token ? bearer(token) : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  let res = await send();
  // A 408 here is Node's connection check closing a connection on which the server read no
  // request head within its headersTimeout: the request was never routed, so sending it once
  // more (on a new connection: undici drops the closed one) is safe, as RFC 9110 allows and
  // browsers do. The API logs each such 408 ('client error before routing', libs/http).
  if (res.status === 408) {
    await res.text();
    res = await send();
  }
  const text = await res.text();
  if (!expect.includes(res.status)) {
    throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface Drop {
  readonly id: string;
  readonly remaining: number;
  readonly phase: string;
}

export async function createDrop(
  stack: Stack,
  brand: string,
  spec: DropSpec,
  quantity: number,
  times: DropTimes,
  run: string,
  /** Fields beyond the spec's (a campaign's: audienceTier, shareDiscountMinor, ...). */
  extra: Record<string, unknown> = {},
): Promise<Drop> {
  const iso = (ms: number | undefined) =>
    ms === undefined ? undefined : new Date(ms).toISOString();
  return call<Drop>(stack, 'POST', '/v1/drops', brand, {
    title: spec.title,
    sku: `${spec.skuPrefix}-${run}`,
    priceMinor: spec.priceMinor,
    currency: spec.currency,
    quantity,
    perUserLimit: spec.perUserLimit,
    reservationRequired: spec.reservationRequired,
    holdSeconds: spec.holdSeconds,
    ...(spec.allocation ? { allocation: spec.allocation } : {}),
    reservationOpensAt: iso(times.reservationOpensAt),
    reservationClosesAt: iso(times.reservationClosesAt),
    saleStartsAt: iso(times.saleStartsAt),
    saleEndsAt: iso(times.saleEndsAt),
    ...extra,
  });
}

export interface DropStats {
  readonly quantity: number;
  readonly remaining: number;
  readonly held: number;
  readonly paid: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly reservations: number;
  readonly grabAttempts: number;
  readonly rejections: Record<string, number>;
  readonly firstSaleAt?: string | null;
  readonly soldOutAt?: string | null;
}

export function stats(stack: Stack, brand: string, dropId: string): Promise<DropStats> {
  return call<DropStats>(stack, 'GET', `/v1/drops/${dropId}/stats`, brand);
}

export function getDrop(stack: Stack, dropId: string): Promise<Drop> {
  return call<Drop>(stack, 'GET', `/v1/drops/${dropId}`, undefined);
}

/** Whether a route exists on the stack (a route not landed yet answers 404 NOT_FOUND). */
export async function routeExists(stack: Stack, method: string, path: string): Promise<boolean> {
  const res = await fetch(`${stack.origin}${path}`, { method }).catch(() => undefined);
  await res?.arrayBuffer();
  return res !== undefined && res.status !== 404;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** `{dropId}`-style placeholders of a scenario's path, filled in. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(values[key]));
}
