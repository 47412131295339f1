import { api, ApiResponse } from './api-client';
import { tokenFor, uniqueId } from './tokens';

/** An ISO time `ms` from now (the test machine's clock is the Redis host's clock here). */
export function isoIn(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** A valid drop body: reservations open now, the sale in an hour. */
export function dropBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Phone X',
    sku: 'PHONE-X',
    priceMinor: 199_900,
    quantity: 100,
    reservationOpensAt: isoIn(-60_000),
    reservationClosesAt: isoIn(3_600_000),
    saleStartsAt: isoIn(3_600_000),
    ...overrides,
  };
}

/** A drop on sale now that needs no reservation. */
export function openDropBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return dropBody({
    reservationRequired: false,
    reservationOpensAt: undefined,
    reservationClosesAt: undefined,
    saleStartsAt: isoIn(-1_000),
    ...overrides,
  });
}

export interface DropBody {
  id: string;
  brandId: string;
  phase: string;
  remaining: number;
  reservations: number;
  quantity: number;
  [field: string]: unknown;
}

export interface OrderBody {
  id: string;
  dropId: string;
  fanId: string;
  quantity: number;
  amountMinor: number;
  status: string;
  expiresAt: string;
  [field: string]: unknown;
}

/** Creates a drop through the API as `brandToken` (a fresh brand when absent). */
export async function createDrop(
  body: Record<string, unknown>,
  brandToken: string = tokenFor('brand', uniqueId('brand')),
): Promise<DropBody> {
  const res = await api<DropBody>('POST', '/v1/drops', { token: brandToken, body });
  if (res.status !== 201) throw new Error(`create drop: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export function grabVia(
  dropId: string,
  fanToken: string,
  body?: unknown,
  key?: string,
  baseUrl?: string,
) {
  return api<OrderBody & { error?: string }>('POST', `/v1/drops/${dropId}/purchases`, {
    token: fanToken,
    body,
    headers: key ? { 'idempotency-key': key } : undefined,
    baseUrl,
  });
}

export async function getDrop(dropId: string): Promise<DropBody> {
  return (await api<DropBody>('GET', `/v1/drops/${dropId}`)).body;
}

export function errorOf(res: ApiResponse): string | undefined {
  return (res.body as { error?: string } | undefined)?.error;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}
