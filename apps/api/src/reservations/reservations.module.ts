import { Module } from '@nestjs/common';
import { DropsModule } from '../drops/drops.module';
import { ReservationRoute } from './reservation.route';
import { ReservationsService } from './reservations.service';

/** Reservations. No controller: ReservationRoute is mounted on Fastify by createHttpApp. */
@Module({
  imports: [DropsModule],
  providers: [ReservationsService, ReservationRoute],
})
export class ReservationsModule {}
