import { Global, Module } from '@nestjs/common';
import { Inventory } from './inventory';
import { RedisConnection } from '@flashdrop/persistence';

/** The process's Inventory (the Lua scripts), on the shared auto-pipelining connection. */
@Global()
@Module({
  providers: [
    {
      provide: Inventory,
      inject: [RedisConnection],
      useFactory: (redis: RedisConnection) => new Inventory(redis.client),
    },
  ],
  exports: [Inventory],
})
export class InventoryModule {}
