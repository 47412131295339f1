import { Body, Controller, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { ReservationView, ReserveDto } from './reservation.dto';
import { ReservationsService } from './reservations.service';

@ApiTags('fans')
@ApiBearerAuth()
@Controller('v1/drops/:id/reservations')
export class ReservationsController {
  constructor(private readonly reservations: ReservationsService) {}

  /** 201 for a new reservation, 200 with the same body for a repeat. */
  @RequireRoles('fan')
  @Post()
  async reserve(
    @CurrentPrincipal() p: Principal,
    @Param('id') dropId: string,
    @Body() body: ReserveDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReservationView> {
    const { created, view } = await this.reservations.reserve(dropId, p.sub, body.referrerId);
    void reply.status(created ? 201 : 200);
    return view;
  }
}
