import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { toErrorResponse } from './error-response';

/** The one exception filter: every error leaves in the contract's shape (API.md "General"). */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body, errorId } = toErrorResponse(exception);
    if (errorId) this.logger.error({ errorId, err: exception }, 'unhandled error');
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
