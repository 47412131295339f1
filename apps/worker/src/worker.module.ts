import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, Public } from '@flashdrop/auth';
import { ConfigModule } from '@flashdrop/config';
import { KafkaModule } from '@flashdrop/events';
import { LoggerModule, MetricsModule } from '@flashdrop/http';
import { RedisModule } from '@flashdrop/persistence';
import { PaymentRecoveryModule } from './payment-recovery/payment-recovery.module';
import { RelayModule } from './relay/relay.module';
import { InventoryModule } from '@flashdrop/inventory';
import { HoldSweeper } from './sweeper/hold-sweeper';
import { LifecycleScheduler } from './lifecycle/lifecycle-scheduler';
import { OrderPersister } from './order-persistence/order-persister';
import { ReservationCounter } from './reservation-counts/reservation-counter';

@Public()
@Controller('health')
class WorkerHealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

/**
 * Background singletons (each under a redlock lease): the drop lifecycle scheduler, the
 * hold-expiry sweeper, the reservation counter, the outbox relays and order persistence.
 */
@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('worker'),
    AuthModule,
    MetricsModule,
    RedisModule,
    KafkaModule,
    PaymentRecoveryModule,
    RelayModule,
    InventoryModule,
  ],
  controllers: [WorkerHealthController],
  providers: [HoldSweeper, LifecycleScheduler, OrderPersister, ReservationCounter],
})
export class WorkerModule {}
