import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Observable, throwError } from 'rxjs';
import { DomainError, WalletErrorReply } from '@flashdrop/contracts';

/**
 * Every error of a wallet handler leaves as a WalletErrorReply: refusals with their code (the
 * API turns them back into DomainErrors), anything unexpected as INTERNAL with an error id,
 * the real error staying in this service's log.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof DomainError) {
      const reply: WalletErrorReply = exception.toBody();
      return throwError(() => reply);
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: exception }, 'wallet handler failed');
    const reply: WalletErrorReply = { error: 'INTERNAL', message: `wallet error ${errorId}` };
    return throwError(() => reply);
  }
}
