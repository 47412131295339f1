import { Injectable } from '@nestjs/common';
import { LeanRoute, LeanRouteProvider } from '@flashdrop/http';
import { checkIdempotencyKey, checkOrderId } from './payments.dto';
import { PaymentsService } from './payments.service';

/**
 * POST /v1/orders/:id/payment: a fan pays their held order from their wallet (API.md "Fans"),
 * debited exactly once (apps/wallet/PAYMENTS.md). The phone's 50,000 winners pay within
 * seconds of each other, so it is served by Fastify directly like the grab (libs/http
 * LeanRoute): Nest's router was the largest share of the API's CPU per payment. Refusals are
 * thrown DomainErrors, answered in the contract's shape by the lean route.
 */
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
          const key = checkIdempotencyKey(headers['idempotency-key']);
          return { status: 200, body: await this.payments.pay(orderId, principal.sub, key) };
        },
        openapi: {
          tags: ['orders'],
          summary: 'Pay a held order from the wallet: debited exactly once',
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', minLength: 1, maxLength: 64 },
            },
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } },
          ],
          responses: {
            200: { description: 'The paid order' },
            402: { description: 'INSUFFICIENT_FUNDS (the hold stays)' },
            404: { description: 'NOT_FOUND: no such order of this fan' },
            409: {
              description:
                'HOLD_EXPIRED, ORDER_CANCELLED, IDEMPOTENCY_KEY_REUSED, PAYMENT_IN_PROGRESS',
            },
            503: { description: 'SERVICE_UNAVAILABLE: the wallet is unavailable' },
          },
        },
      },
    ];
  }
}
