import { HttpException } from '@nestjs/common';
import {
  DomainError,
  ErrorBody,
  ErrorCode,
  ErrorMessages,
  httpStatusOf,
} from '@flashdrop/contracts';
import { isPostgresUnavailable, isRedisUnavailable } from '@flashdrop/persistence';
import { randomUUID } from 'node:crypto';

export interface ErrorResponse {
  readonly status: number;
  readonly body: ErrorBody;
  /** Set for 500s: the caller sees only this id, the log gets the real error under it. */
  readonly errorId?: string;
  /** Headers the answer carries (Retry-After on 429 and 503). */
  readonly headers: Readonly<Record<string, string>>;
  /** Set for a 503 because a server did not answer: the log gets one warning line. */
  readonly unavailable?: 'redis' | 'postgresql';
}

/**
 * docs/api.md: 429 and 503 carry Retry-After (seconds). The one place that adds it, for Nest's
 * filter, Fastify's handler and the lean routes alike.
 */
export function retryHeaders(status: number, seconds = 1): Record<string, string> {
  return status === 429 || status === 503 ? { 'retry-after': String(Math.max(1, seconds)) } : {};
}

/**
 * Refusals of Fastify's router (before any route: frameworkErrors in bootstrap.ts), as the
 * contract's 400 with a message of our own (theirs repeats the path, which can be long).
 */
const ROUTER_REFUSALS: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'malformed request: the path is not valid percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'malformed request: a path parameter is longer than 100 characters',
};

/** Status codes raised by Nest or Fastify themselves, mapped to the contract's codes. */
function codeForStatus(status: number): ErrorCode | undefined {
  switch (status) {
    case 400:
      return 'VALIDATION_FAILED';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return undefined;
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  if (typeof error === 'object' && error !== null) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return status;
  }
  return undefined;
}

function messageOf(error: unknown, fallback: string): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    if (typeof response === 'object' && response !== null && 'message' in response) {
      const m = (response as { message: unknown }).message;
      if (typeof m === 'string') return m;
    }
    return error.message;
  }
  return error instanceof Error && error.message ? error.message : fallback;
}

/**
 * The one translation of any thrown value into the contract's error shape. Used by the Nest
 * exception filter and by Fastify's error handler (errors raised before Nest sees the request,
 * such as malformed JSON or a body over the limit). Only known 4xx keep their message; anything
 * else becomes 500 INTERNAL with an error id and no detail.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof DomainError) {
    const status = httpStatusOf(error.code);
    return { status, body: error.toBody(), headers: retryHeaders(status, error.retryAfterSeconds) };
  }
  if (isRedisUnavailable(error)) {
    // Redis did not answer in time (or at all): the caller retries, with its Idempotency-Key
    // where the route takes one, and gets the step's one outcome whether or not it ran.
    return {
      status: 503,
      body: { error: 'SERVICE_UNAVAILABLE', message: ErrorMessages.SERVICE_UNAVAILABLE },
      headers: retryHeaders(503),
      unavailable: 'redis',
    };
  }
  if (isPostgresUnavailable(error)) {
    // PostgreSQL did not answer within POSTGRES_QUERY_TIMEOUT_MS, or could not be reached. A
    // write may still have committed: the caller retries (with its Idempotency-Key or its
    // reference where the route takes one), as for Redis.
    return {
      status: 503,
      body: { error: 'SERVICE_UNAVAILABLE', message: ErrorMessages.SERVICE_UNAVAILABLE },
      headers: retryHeaders(503),
      unavailable: 'postgresql',
    };
  }
  const routerCode = (error as { code?: unknown } | null)?.code;
  if (typeof routerCode === 'string' && Object.hasOwn(ROUTER_REFUSALS, routerCode)) {
    return {
      status: 400,
      body: { error: 'VALIDATION_FAILED', message: ROUTER_REFUSALS[routerCode] },
      headers: {},
    };
  }
  const status = statusOf(error);
  const code = status === undefined ? undefined : codeForStatus(status);
  if (status !== undefined && code !== undefined) {
    const message =
      code === 'VALIDATION_FAILED'
        ? `malformed request: ${messageOf(error, 'bad request')}`
        : messageOf(error, ErrorMessages[code]);
    const mapped = httpStatusOf(code);
    return { status: mapped, body: { error: code, message }, headers: retryHeaders(mapped) };
  }
  const errorId = randomUUID();
  return {
    status: 500,
    body: {
      error: 'INTERNAL',
      message: ErrorMessages.INTERNAL,
      errorId,
    },
    errorId,
    headers: {},
  };
}
