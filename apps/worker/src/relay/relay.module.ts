import { Module } from '@nestjs/common';
import { StreamRelayService } from './relay.service';

/** The outbox relays (Redis streams -> Kafka), each a singleton under a redlock lease. */
@Module({ providers: [StreamRelayService] })
export class RelayModule {}
