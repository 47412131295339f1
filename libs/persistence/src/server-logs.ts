import { Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import type { Logger as TypeOrmLoggerInterface } from 'typeorm';

/**
 * What the server clients report goes into the service's one log (Nest's Logger, which is pino's
 * JSON once a service is up), never to the console in a format of their own.
 */

/** TypeORM's messages: errors and warnings only (query logging stays off). */
export class TypeOrmLogger implements TypeOrmLoggerInterface {
  private readonly logger = new Logger('TypeORM');

  logQuery(): void {}

  logQueryError(error: string | Error, query: string): void {
    this.logger.error({ query: query.slice(0, 500), err: String(error) }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ query: query.slice(0, 500), ms: time }, 'slow query');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}

/** Reconnecting clients repeat the same error many times a second: at most one line per this. */
const SAME_ERROR_EVERY_MS = 10_000;

/**
 * Logs a Redis client's connection errors (ioredis prints "[ioredis] Unhandled error event" to
 * the console when nobody listens), once per distinct message per 10 s while it reconnects.
 */
export function logRedisErrors(client: Redis | Cluster, name: string): void {
  const logger = new Logger(`Redis:${name}`);
  const lastSeen = new Map<string, number>();
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - (lastSeen.get(error.message) ?? 0) < SAME_ERROR_EVERY_MS) return;
    lastSeen.set(error.message, now);
    logger.warn(`redis: ${error.message}`);
  });
}
