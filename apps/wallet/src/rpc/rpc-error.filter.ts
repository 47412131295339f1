import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Observable, throwError } from 'rxjs';
import { DomainError, ErrorMessages, WalletErrorReply } from '@flashdrop/contracts';
import { isPostgresUnavailable } from '@flashdrop/persistence';

/**
 * Every error of a wallet handler leaves as a WalletErrorReply: refusals with their code (the
 * API turns them back into DomainErrors), anything unexpected as INTERNAL with an error id,
 * the real error staying in this service's log.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const reply = toWalletErrorReply(exception);
    return throwError(() => reply);
  }
}

const logger = new Logger('RpcErrorFilter');

/**
 * A refusal as it is; PostgreSQL not answering within POSTGRES_QUERY_TIMEOUT_MS as
 * SERVICE_UNAVAILABLE (the API answers 503 + Retry-After; the caller retries with the same
 * reference or attempt, which the ledger answers once); anything else as INTERNAL with an error
 * id, logged here.
 */
export function toWalletErrorReply(exception: unknown): WalletErrorReply {
  if (exception instanceof DomainError) return exception.toBody();
  if (isPostgresUnavailable(exception)) {
    logger.warn({ err: String(exception) }, 'postgresql did not answer: SERVICE_UNAVAILABLE');
    return { error: 'SERVICE_UNAVAILABLE', message: ErrorMessages.SERVICE_UNAVAILABLE };
  }
  const errorId = randomUUID();
  logger.error({ errorId, err: exception }, 'wallet handler failed');
  return { error: 'INTERNAL', message: `wallet error ${errorId}` };
}
