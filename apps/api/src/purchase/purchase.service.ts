import { Inject, Injectable } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import {
  ErrorBody,
  ErrorMessages,
  httpStatusOf,
  NotFoundMessages,
  Order,
  Principal,
} from '@flashdrop/contracts';
import { Inventory, isDropId, isGroupId, refusalBody, toPublicOrder } from '@flashdrop/inventory';
import { isErrorBody, parseIdempotencyKey, retryHeaders } from '@flashdrop/http';
import { FanRateLimiter } from '../rate-limit/fan-rate-limiter';
import { parsePurchaseBody } from './purchase.dto';

export interface PurchaseAnswer {
  readonly status: number;
  readonly body: Order | ErrorBody;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The grab's window is one second, so its 429 always says 1 s: built once. */
const TOO_MANY: PurchaseAnswer = {
  status: 429,
  body: refusalBody({ ok: false, code: 'TOO_MANY_REQUESTS' }),
  headers: retryHeaders(429, 1),
};

const UNKNOWN_DROP: PurchaseAnswer = {
  status: 404,
  body: { error: 'NOT_FOUND', message: NotFoundMessages.drop },
};

const NO_GROUPS: ErrorBody = {
  error: 'VALIDATION_FAILED',
  message: ErrorMessages.VALIDATION_FAILED,
  details: [{ field: 'groupId', message: 'this drop has no groups' }],
};

const UNKNOWN_GROUP: PurchaseAnswer = {
  status: 404,
  body: { error: 'NOT_FOUND', message: NotFoundMessages.group },
};

/**
 * The grab: the hot path of a rush (docs/architecture.md "Performance"). Kept lean on purpose: the body
 * is checked by hand, there is exactly one Redis round trip (grab.lua does the phase, clock,
 * reservation, limit, stock, hold, idempotency and event in one atomic step), no PostgreSQL,
 * refusals are returned as answers rather than thrown, and the per-fan rate limit is a Map
 * lookup in this process (FanRateLimiter) that a hammering fan never gets past to Redis. A drop
 * split into stock buckets (docs/scale.md) takes up to three round trips instead, so that its
 * SOLD_OUT answers stay off the drop's own Redis primary.
 */
@Injectable()
export class PurchaseService {
  private readonly rateLimiter: FanRateLimiter;

  constructor(
    private readonly inventory: Inventory,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.rateLimiter = new FanRateLimiter(config.GRAB_RATE_LIMIT_PER_SECOND, 1000);
  }

  async grab(
    fan: Principal,
    dropId: string,
    body: unknown,
    idempotencyHeader: string | string[] | undefined,
  ): Promise<PurchaseAnswer> {
    const parsed = parsePurchaseBody(body);
    if (isErrorBody(parsed)) return { status: 400, body: parsed };
    const idempotencyKey = parseIdempotencyKey(idempotencyHeader);
    if (isErrorBody(idempotencyKey)) return { status: 400, body: idempotencyKey };
    if (!isDropId(dropId)) return UNKNOWN_DROP;
    // An id we could never have given out names no group (404, like the grab's own answer).
    if (parsed.groupId !== undefined && !isGroupId(parsed.groupId)) return UNKNOWN_GROUP;
    const fanId = fan.sub;
    if (!this.rateLimiter.allow(fanId)) {
      this.inventory.refusals.record(dropId, 'TOO_MANY_REQUESTS');
      return TOO_MANY;
    }

    const req = {
      dropId,
      fanId,
      quantity: parsed.quantity,
      idempotencyKey,
      tier: fan.tier,
      groupId: parsed.groupId,
    };
    // A drop split into stock buckets (fixed at creation, known after its first grab here)
    // takes the bucketed path; every other drop the one-script grab. A group-buy drop always has
    // one bucket (drop-rules), so a groupId on a bucketed drop names a group it cannot have.
    const buckets = await this.inventory.buckets.countOf(dropId);
    if (buckets !== undefined && buckets > 1 && parsed.groupId !== undefined) {
      return { status: 400, body: NO_GROUPS };
    }
    const outcome =
      buckets !== undefined && buckets > 1
        ? await this.inventory.buckets.grab(req, buckets)
        : await this.inventory.grab(req);
    if (outcome.ok) return { status: 201, body: toPublicOrder(outcome.order) };
    if (outcome.code === 'NOT_FOUND' && outcome.details) return UNKNOWN_GROUP;
    return { status: httpStatusOf(outcome.code), body: refusalBody(outcome) };
  }
}
