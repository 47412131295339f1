import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Role } from '@flashdrop/contracts';
import {
  PRINCIPAL_PROPERTY,
  PUBLIC_KEY,
  QUERY_TOKEN_KEY,
  RequestWithPrincipal,
  ROLES_KEY,
} from './auth.decorators';
import { assertRole, TokenVerifier } from './token-verifier';

interface HttpRequestLike extends RequestWithPrincipal {
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, unknown>;
}

/**
 * Global guard: every route needs a valid token unless marked `@Public()`; `@RequireRoles()`
 * narrows it to roles. 401 UNAUTHENTICATED for a bad token, 403 FORBIDDEN for a wrong role.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    const header = request.headers['authorization'];
    const queryToken = request.query?.['access_token'];
    const principal =
      header === undefined &&
      typeof queryToken === 'string' &&
      this.reflector.getAllAndOverride<boolean>(QUERY_TOKEN_KEY, targets)
        ? this.verifier.verify(queryToken)
        : this.verifier.verifyHeader(Array.isArray(header) ? header[0] : header);

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles) assertRole(principal, roles);
    request[PRINCIPAL_PROPERTY] = principal;
    return true;
  }
}
