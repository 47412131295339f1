import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { withTimeout } from './timing';
import Redis, { RedisOptions } from 'ioredis';
import { logRedisErrors } from './server-logs';

/**
 * A Redis connection for request traffic. Auto-pipelining batches the commands of concurrent
 * requests into one write, which is most of the grab's throughput; `maxRetriesPerRequest`
 * bounds how long a request waits while Redis is down, so callers fail rather than hang.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    ...options,
  });
  logRedisErrors(client, options.connectionName ?? 'client');
  return client;
}

export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  const answer = await withTimeout(redis.ping(), timeoutMs, 'redis');
  if (answer !== 'PONG') throw new Error(`redis answered ${answer}`);
}

/** The process's shared Redis connection, closed on shutdown. */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(@Inject(FlashdropConfig) config: FlashdropConfig) {
    this.client = createRedis(config.REDIS_URL, { connectionName: 'flashdrop' });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
