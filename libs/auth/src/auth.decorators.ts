import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { DomainError, Principal, Role } from '@flashdrop/contracts';

export const ROLES_KEY = 'flashdrop:roles';
export const PUBLIC_KEY = 'flashdrop:public';
export const QUERY_TOKEN_KEY = 'flashdrop:query-token';

/** The route needs a token whose role is one of these (403 FORBIDDEN otherwise). */
export const RequireRoles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** The route needs no token at all. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/**
 * The token may also come as `?access_token=`: a browser's EventSource cannot set headers.
 * Only for read-only streaming routes.
 */
export const AllowQueryToken = () => SetMetadata(QUERY_TOKEN_KEY, true);

/** Request property under which the guard leaves the verified caller. */
export const PRINCIPAL_PROPERTY = 'principal';

export interface RequestWithPrincipal {
  [PRINCIPAL_PROPERTY]?: Principal;
}

/** The verified caller of this request (routes behind the AuthGuard only). */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>()[PRINCIPAL_PROPERTY];
  if (!principal) throw new DomainError('UNAUTHENTICATED', 'missing bearer token');
  return principal;
});
