import { Module } from '@nestjs/common';
import { MetricsModule } from '@flashdrop/http';
import { StreamRelayService } from './relay.service';
import { WalletOutboxRelayService } from './wallet-outbox-relay.service';

/** The outbox relays (Redis streams and the wallet's table -> Kafka), each a redlock singleton. */
@Module({ imports: [MetricsModule], providers: [StreamRelayService, WalletOutboxRelayService] })
export class RelayModule {}
