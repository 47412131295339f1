import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, Public } from '@flashdrop/auth';
import { ConfigModule } from '@flashdrop/config';
import { KafkaModule } from '@flashdrop/events';
import { LoggerModule, MetricsModule } from '@flashdrop/http';
import { InventoryModule } from '@flashdrop/inventory';
import { RedisModule } from '@flashdrop/persistence';
import { WalletClientModule } from '@flashdrop/wallet-client';
import { LifecycleScheduler } from './lifecycle/lifecycle-scheduler';
import { OrderPersister } from './order-persistence/order-persister';
import { PaymentRecoveryService } from './payment-recovery/payment-recovery.service';
import { RefundRecovery } from './refund-recovery/refund-recovery';
import { StreamRelayService } from './relay/relay.service';
import { ReservationCounter } from './reservation-counts/reservation-counter';
import { WalletOutboxRelayService } from './relay/wallet-outbox-relay.service';
import { SingletonsModule } from './singleton/singletons.module';
import { DrawScheduler } from './draw/draw-scheduler';
import { HoldSweeper } from './sweeper/hold-sweeper';
import { GroupSweeper } from './group-sweeper/group-sweeper';

@Public()
@Controller('health')
class WorkerHealthController {
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

/**
 * The worker's singletons, each run under its own redlock lease (its schedule is on the class:
 * `@Singleton`): one holder of each across every worker instance.
 */
const singletons = [
  LifecycleScheduler, // drop.phase_changed as time points pass (sync_phase)
  HoldSweeper, // expired holds back to stock (expire_due)
  ReservationCounter, // reservations announced in aggregate (count_reservations)
  OrderPersister, // the outbox streams -> sales.orders and the allocation logs
  PaymentRecoveryService, // payments a crash left in `paying`, settled with the wallet
  RefundRecovery, // refunds a crash left in `refunding`, finished with the wallet
  StreamRelayService, // the outbox streams -> Kafka, and their trimming
  WalletOutboxRelayService, // wallet.outbox -> Kafka
  DrawScheduler, // draw drops: the seed committed, the draw in idempotent steps, the result
  GroupSweeper, // group buy: groups failed at their deadline, and groups a crash left half-way
];

@Module({
  imports: [
    ConfigModule.forRoot(),
    LoggerModule.forService('worker'),
    AuthModule,
    MetricsModule,
    RedisModule,
    KafkaModule,
    InventoryModule,
    SingletonsModule.register({ singletons, imports: [MetricsModule, WalletClientModule] }),
  ],
  controllers: [WorkerHealthController],
})
export class WorkerModule {}
