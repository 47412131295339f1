// Helpers shared by the k6 scripts: tokens, the API's base URL, drop creation. k6 only: these
// use k6's own modules (k6/http, k6/crypto), so the Node runner has its own equivalents.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import http from 'k6/http';
import type { DropSpec } from '../../scenarios/scenario.ts';

/** The stack under test: `-e API_URL=...` (default: the dev stack of `npm start`). */
export const API_URL = __ENV.API_URL || 'http://127.0.0.1:3000';
/** The stack's JWT_SECRET (`-e JWT_SECRET=...`; default: the development secret in README.md). */
const JWT_SECRET = __ENV.JWT_SECRET || 'flashdrop-dev-secret-change-me';
/** `-e SCALE=0.01` shrinks a scenario (fans, units) for a quick run; 1 is the real thing. */
export const SCALE = Number(__ENV.SCALE || '1');

export type Role = 'fan' | 'brand' | 'operator';

/** An HS256 token (docs/api.md "Auth"), signed here as libs/auth signToken signs it. */
export function token(sub: string, role: Role, ttlSeconds = 3600): string {
  const header = encoding.b64encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'rawurl');
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  const payload = encoding.b64encode(JSON.stringify({ sub, role, exp }), 'rawurl');
  const signature = crypto.hmac('sha256', JWT_SECRET, `${header}.${payload}`, 'base64rawurl');
  return `${header}.${payload}.${signature}`;
}

export function headers(bearer: string, extra: Record<string, string> = {}) {
  return {
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...extra },
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A short id for this run, so fans and SKUs of several runs never meet. */
export function runId(): string {
  return Date.now().toString(36);
}

export interface DropTimes {
  readonly reservationOpensAt?: number;
  readonly reservationClosesAt?: number;
  readonly saleStartsAt: number;
  readonly saleEndsAt?: number;
}

/** Creates the scenario's drop as `brand` and returns its id; fails the run if refused. */
export function createDrop(spec: DropSpec, quantity: number, times: DropTimes, run: string) {
  const body = {
    title: spec.title,
    sku: `${spec.skuPrefix}-${run}`,
    priceMinor: spec.priceMinor,
    currency: spec.currency,
    quantity,
    perUserLimit: spec.perUserLimit,
    reservationRequired: spec.reservationRequired,
    holdSeconds: spec.holdSeconds,
    ...(spec.allocation ? { allocation: spec.allocation } : {}),
    saleStartsAt: iso(times.saleStartsAt),
    ...(times.reservationOpensAt ? { reservationOpensAt: iso(times.reservationOpensAt) } : {}),
    ...(times.reservationClosesAt ? { reservationClosesAt: iso(times.reservationClosesAt) } : {}),
    ...(times.saleEndsAt ? { saleEndsAt: iso(times.saleEndsAt) } : {}),
  };
  const res = http.post(
    `${API_URL}/v1/drops`,
    JSON.stringify(body),
    headers(token(`brand-${run}`, 'brand')),
  );
  if (res.status !== 201) throw new Error(`POST /v1/drops: ${res.status} ${String(res.body)}`);
  return (res.json() as { id: string }).id;
}

/** `{dropId}` / `{orderId}` / `{fanId}` in a scenario's path, filled in. */
export function path(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => encodeURIComponent(values[key]));
}

/** The drop's stats as its brand sees them (docs/api.md "Operators"). */
export function stats(dropId: string, run: string): Record<string, unknown> {
  const res = http.get(
    `${API_URL}/v1/drops/${dropId}/stats`,
    headers(token(`brand-${run}`, 'brand')),
  );
  return res.status === 200 ? (res.json() as Record<string, unknown>) : {};
}
