import { Injectable } from '@nestjs/common';
import {
  isErrorBody,
  LeanRoute,
  LeanRouteProvider,
  ServesLeanRoutes,
  leanOperation,
  parseIdempotencyKey,
} from '@flashdrop/http';
import { checkOrderId } from './payments.dto';
import { PaymentsService } from './payments.service';

/**
 * POST /v1/orders/:id/payment: a fan pays their held order from their wallet (docs/api.md "Fans"),
 * debited exactly once (apps/wallet/PAYMENTS.md). The phone's 50,000 winners pay within
 * seconds of each other, so it is served by Fastify directly like the grab (libs/http
 * LeanRoute): Nest's router was the largest share of the API's CPU per payment. Refusals are
 * thrown DomainErrors, answered in the contract's shape by the lean route.
 */
@ServesLeanRoutes()
@Injectable()
export class PaymentsRoute implements LeanRouteProvider {
  constructor(private readonly payments: PaymentsService) {}

  leanRoutes(): LeanRoute[] {
    return [
      {
        method: 'POST',
        url: '/v1/orders/:id/payment',
        roles: ['fan'],
        handle: async ({ principal, params, headers }) => {
          const orderId = checkOrderId(params.id);
          const key = parseIdempotencyKey(headers['idempotency-key']);
          if (isErrorBody(key)) return { status: 400, body: key };
          return { status: 200, body: await this.payments.pay(orderId, principal.sub, key) };
        },
        openapi: leanOperation({
          tag: 'orders',
          summary: 'Pay a held order from the wallet: debited exactly once',
          idSchema: { type: 'string', minLength: 1, maxLength: 64 },
          headers: ['Idempotency-Key'],
          responses: {
            200: 'The paid order',
            402: 'INSUFFICIENT_FUNDS (the hold stays)',
            404: 'NOT_FOUND: no such order of this fan',
            409: 'HOLD_EXPIRED, ORDER_CANCELLED, IDEMPOTENCY_KEY_REUSED, PAYMENT_IN_PROGRESS',
            503: 'SERVICE_UNAVAILABLE: the wallet is unavailable',
          },
        }),
      },
    ];
  }
}
