import { ArgumentsHost, Catch, ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import { DomainError, ErrorMessages } from '@flashdrop/contracts';
import { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response';
import { RouteTable } from './route-table';

/**
 * The one exception filter: every error leaves in the contract's shape (docs/api.md "General").
 * With a RouteTable, a request no route matched is 405 METHOD_NOT_ALLOWED with `Allow` when its
 * path is served under other methods, and 404 NOT_FOUND otherwise.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  constructor(private readonly routes?: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.getType() === 'http' ? host.switchToHttp() : undefined;
    const allow = http && this.allowedInstead(exception, http.getRequest<FastifyRequest>());
    if (allow) {
      exception = new DomainError(
        'METHOD_NOT_ALLOWED',
        `${ErrorMessages.METHOD_NOT_ALLOWED}; it serves ${allow.join(', ')}`,
      );
    }
    const { status, body, errorId, headers, unavailable } = toErrorResponse(exception);
    if (unavailable) {
      const reqId = http?.getRequest<FastifyRequest>().id;
      this.logger.warn({ reqId, err: String(exception) }, `${unavailable} did not answer: 503`);
    }
    if (errorId) {
      const reqId = http?.getRequest<FastifyRequest>().id;
      this.logger.error({ errorId, reqId, err: exception }, 'unhandled error');
    }
    if (!http) throw exception;
    const reply = http.getResponse<FastifyReply>();
    if (allow) void reply.header('allow', allow.join(', '));
    void reply
      .status(status)
      .headers(headers)
      .header('content-type', 'application/json; charset=utf-8')
      .send(body);
  }

  /** The methods to offer instead, when no route matched this request but its path exists. */
  private allowedInstead(exception: unknown, request: FastifyRequest): string[] | undefined {
    if (!this.routes || !(exception instanceof NotFoundException)) return undefined;
    if (request.routeOptions?.url !== undefined) return undefined; // a route answered 404 itself
    const allow = this.routes.allowed(request.url);
    return allow.length > 0 ? allow : undefined;
  }
}
