import { Injectable } from '@nestjs/common';
import { LeanRoute, LeanRouteProvider } from '@flashdrop/http';
import { PurchaseService } from './purchase.service';

/**
 * POST /v1/drops/:id/purchases: the rush, served by Fastify directly (libs/http LeanRoute),
 * with the token, role and error shape a Nest route would have. load-tests/README.md records
 * what leaving Nest's router bought.
 */
@Injectable()
export class PurchaseRoute implements LeanRouteProvider {
  constructor(private readonly purchases: PurchaseService) {}

  leanRoutes(): LeanRoute[] {
    return [
      {
        method: 'POST',
        url: '/v1/drops/:id/purchases',
        roles: ['fan'],
        handle: ({ principal, params, body, headers }) =>
          this.purchases.grab(params.id, principal.sub, body, headers['idempotency-key']),
        openapi: {
          tags: ['fans'],
          summary: 'Grab units of a drop: an order held until expiresAt',
          security: [{ bearer: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } },
          ],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { quantity: { type: 'integer', minimum: 1 } },
                },
              },
            },
          },
          responses: {
            201: { description: 'Order held until expiresAt' },
            403: { description: 'NOT_RESERVED' },
            409: {
              description: 'SALE_NOT_STARTED, SALE_ENDED, SALE_PAUSED, SOLD_OUT, LIMIT_REACHED',
            },
            429: { description: 'TOO_MANY_REQUESTS' },
          },
        },
      },
    ];
  }
}
