import { appendFileSync } from 'node:fs';
import { apiBaseUrl } from './test-env';

/**
 * Where every answer the public origin gives through `api()` is recorded, one JSON line each
 * ({ method, path, status }), when set (scripts/test.sh sets it per slot): at the end of the run
 * apps/api/test/openapi-coverage.e2e-spec.ts checks each status against /docs/openapi.json.
 */
export const API_STATUS_LOG_ENV = 'API_STATUS_LOG';

function recordStatus(method: string, path: string, status: number): void {
  const log = process.env[API_STATUS_LOG_ENV];
  if (!log) return;
  appendFileSync(log, `${JSON.stringify({ method: method.toUpperCase(), path, status })}\n`);
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface ApiRequest {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is (for malformed JSON tests); wins over `body`. */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  readonly baseUrl?: string;
  /** Gives up (throws) after this long: for a test whose defect is a request that hangs. */
  readonly giveUpAfterMs?: number;
}

/** One HTTP call to the running stack, JSON in and out; never throws on a 4xx or 5xx. */
export async function api<T = unknown>(
  method: string,
  path: string,
  request: ApiRequest = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.token) headers['authorization'] = `Bearer ${request.token}`;
  let payload: string | undefined = request.rawBody;
  if (payload === undefined && request.body !== undefined) payload = JSON.stringify(request.body);
  if (payload !== undefined && !headers['content-type'])
    headers['content-type'] = 'application/json';
  const res = await fetch(`${request.baseUrl ?? apiBaseUrl()}${path}`, {
    method,
    headers,
    body: payload,
    signal: request.giveUpAfterMs ? AbortSignal.timeout(request.giveUpAfterMs) : undefined,
  });
  if (request.baseUrl === undefined) recordStatus(method, path, res.status);
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0)
    body = JSON.parse(text);
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
