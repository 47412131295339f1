import { Inject, Injectable } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { ErrorBody, httpStatusOf, Order } from '@flashdrop/contracts';
import { Inventory, isDropId, refusalBody, toPublicOrder } from '@flashdrop/inventory';
import { isErrorBody, parseIdempotencyKey, parsePurchaseBody } from './purchase.dto';

export interface PurchaseAnswer {
  readonly status: number;
  readonly body: Order | ErrorBody;
}

const UNKNOWN_DROP: PurchaseAnswer = {
  status: 404,
  body: { error: 'NOT_FOUND', message: 'no such drop' },
};

/**
 * The grab: the hot path of a rush (DESIGN.md "Performance"). Kept lean on purpose: the body
 * is checked by hand, there is exactly one Redis round trip (grab.lua does the phase, clock,
 * reservation, limit, rate limit, stock, hold, idempotency and event in one atomic step), no
 * PostgreSQL, and refusals are returned as answers rather than thrown through Nest's filter.
 */
@Injectable()
export class PurchaseService {
  private readonly rateLimitPerSecond: number;

  constructor(
    private readonly inventory: Inventory,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.rateLimitPerSecond = config.GRAB_RATE_LIMIT_PER_SECOND;
  }

  async grab(
    dropId: string,
    fanId: string,
    body: unknown,
    idempotencyHeader: string | string[] | undefined,
  ): Promise<PurchaseAnswer> {
    const parsed = parsePurchaseBody(body);
    if (isErrorBody(parsed)) return { status: 400, body: parsed };
    const idempotencyKey = parseIdempotencyKey(idempotencyHeader);
    if (isErrorBody(idempotencyKey)) return { status: 400, body: idempotencyKey };
    if (!isDropId(dropId)) return UNKNOWN_DROP;

    const outcome = await this.inventory.grab({
      dropId,
      fanId,
      quantity: parsed.quantity,
      idempotencyKey,
      rateLimitPerSecond: this.rateLimitPerSecond,
    });
    if (outcome.ok) return { status: 201, body: toPublicOrder(outcome.order) };
    return { status: httpStatusOf(outcome.code), body: refusalBody(outcome) };
  }
}
