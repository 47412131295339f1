import { Global, Module } from '@nestjs/common';
import { Inventory } from './inventory';
import { RedisConnection } from '@flashdrop/persistence';
import { FlashdropConfig } from '@flashdrop/config';

/**
 * The process's Inventory (the Lua scripts), on the shared auto-pipelining connection, waiting
 * for REDIS_WAIT_REPLICAS replicas before it answers a fan's step.
 */
@Global()
@Module({
  providers: [
    {
      provide: Inventory,
      inject: [RedisConnection, FlashdropConfig],
      useFactory: (redis: RedisConnection, config: FlashdropConfig) =>
        new Inventory(redis.client, {
          replicas: config.REDIS_WAIT_REPLICAS,
          timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
        }),
    },
  ],
  exports: [Inventory],
})
export class InventoryModule {}
