import { Injectable } from '@nestjs/common';
import { leanOperation, LeanRoute, LeanRouteProvider, ServesLeanRoutes } from '@flashdrop/http';
import { PurchaseService } from './purchase.service';

/**
 * POST /v1/drops/:id/purchases: the rush, served by Fastify directly (libs/http LeanRoute),
 * with the token, role and error shape a Nest route would have. load-tests/README.md records
 * what leaving Nest's router bought.
 */
@ServesLeanRoutes()
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
          this.purchases.grab(principal, params.id, body, headers['idempotency-key']),
        openapi: leanOperation({
          tag: 'fans',
          summary: 'Grab units of a drop: an order held until expiresAt',
          bodyProperties: {
            quantity: { type: 'integer', minimum: 1 },
            groupId: { type: 'string', minLength: 1, maxLength: 64 },
          },
          headers: ['Idempotency-Key'],
          responses: {
            201: 'Order held until expiresAt',
            403: 'NOT_RESERVED, MEMBERS_ONLY',
            404: 'NOT_FOUND (the drop, or the group to join)',
            409:
              'SALE_NOT_STARTED, SALE_ENDED, SALE_PAUSED, SOLD_OUT, LIMIT_REACHED, DRAW_ONLY, ' +
              'GROUP_FULL, GROUP_CLOSED, ALREADY_IN_GROUP',
            429: 'TOO_MANY_REQUESTS',
          },
        }),
      },
    ];
  }
}
