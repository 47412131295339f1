import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response';

/** The one exception filter: every error leaves in the contract's shape (docs/api.md "General"). */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body, errorId, headers } = toErrorResponse(exception);
    const http = host.getType() === 'http' ? host.switchToHttp() : undefined;
    if (errorId) {
      const reqId = http?.getRequest<FastifyRequest>().id;
      this.logger.error({ errorId, reqId, err: exception }, 'unhandled error');
    }
    if (!http) throw exception;
    const reply = http.getResponse<FastifyReply>();
    void reply
      .status(status)
      .headers(headers)
      .header('content-type', 'application/json; charset=utf-8')
      .send(body);
  }
}
