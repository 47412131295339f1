import { Module } from '@nestjs/common';
import { StreamRelayService } from './relay.service';
import { WalletOutboxRelayService } from './wallet-outbox-relay.service';

/** The outbox relays (Redis streams and the wallet's table -> Kafka), each a redlock singleton. */
@Module({ providers: [StreamRelayService, WalletOutboxRelayService] })
export class RelayModule {}
