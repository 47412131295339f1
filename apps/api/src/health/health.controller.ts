import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { FastifyReply } from 'fastify';
import { Public } from '@flashdrop/auth';
import { retryHeaders } from '@flashdrop/http';
import { KafkaConnection } from '@flashdrop/events';
import { pingRedis, RedisConnection } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';

/**
 * Liveness says the process answers; readiness says it can serve: Redis, PostgreSQL and Kafka
 * each answered a real request within a second or two. A failed check answers 503 in the
 * contract's error shape, with one detail per server that did not answer.
 */
@ApiTags('service')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly redis: RedisConnection,
    private readonly sales: SalesDatabase,
    private readonly kafka: KafkaConnection,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<HealthCheckResult | object> {
    try {
      return await this.health.check([
        () => this.probe('redis', () => pingRedis(this.redis.client)),
        () => this.probe('postgresql', () => this.sales.ping()),
        () => this.probe('kafka', () => this.kafka.ping()),
      ]);
    } catch (e) {
      if (!(e instanceof ServiceUnavailableException)) throw e;
      const result = e.getResponse() as HealthCheckResult;
      const down = Object.entries(result.error ?? {});
      void reply.status(503).headers(retryHeaders(503, 5));
      return {
        error: 'SERVICE_UNAVAILABLE',
        message: `not ready: ${down.map(([name]) => name).join(', ')}`,
        details: down.map(([field, info]) => ({
          field,
          message: String(info?.['message'] ?? 'down'),
        })),
        checks: result.details,
      };
    }
  }

  private async probe(key: string, check: () => Promise<void>) {
    const indicator = this.indicator.check(key);
    try {
      await check();
      return indicator.up();
    } catch (e) {
      return indicator.down({ message: (e as Error).message });
    }
  }
}
