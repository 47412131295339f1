import { Injectable } from '@nestjs/common';
import {
  leanOperation,
  isErrorBody,
  LeanRoute,
  LeanRouteProvider,
  ServesLeanRoutes,
} from '@flashdrop/http';
import { parseReserveBody } from './reservation.dto';
import { ReservationsService } from './reservations.service';

/**
 * POST /v1/drops/:id/reservations: 1.3 M fans in the phone's wave, so it is served by Fastify
 * directly like the grab (libs/http LeanRoute). 201 for a new reservation, 200 with the same
 * body for a repeat.
 */
@ServesLeanRoutes()
@Injectable()
export class ReservationRoute implements LeanRouteProvider {
  constructor(private readonly reservations: ReservationsService) {}

  leanRoutes(): LeanRoute[] {
    return [
      {
        method: 'POST',
        url: '/v1/drops/:id/reservations',
        roles: ['fan'],
        handle: async ({ principal, params, body }) => {
          const parsed = parseReserveBody(body);
          if (isErrorBody(parsed)) return { status: 400, body: parsed };
          const { created, view } = await this.reservations.reserve(
            params.id,
            principal.sub,
            parsed.referrerId,
            principal.tier,
          );
          return { status: created ? 201 : 200, body: view };
        },
        openapi: leanOperation({
          tag: 'fans',
          summary: 'Reserve a drop (idempotent per fan)',
          bodyProperties: { referrerId: { type: 'string', minLength: 1, maxLength: 128 } },
          responses: {
            201: 'Reserved: {dropId, fanId, reservedAt}',
            200: 'Already reserved: the same body',
            403: 'MEMBERS_ONLY',
            409: 'RESERVATION_NOT_OPEN, RESERVATION_CLOSED',
          },
        }),
      },
    ];
  }
}
