import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { DomainError } from '@flashdrop/contracts';

export class OrderIdParam {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  readonly id!: string;
}

/** The optional `Idempotency-Key` header: 1..128 printable ASCII characters, else 400. */
export const IdempotencyKey = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string | undefined => {
    const value = ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers[
      'idempotency-key'
    ];
    if (value === undefined) return undefined;
    if (typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value)) return value;
    throw new DomainError('VALIDATION_FAILED', 'request is invalid', [
      { field: 'Idempotency-Key', message: 'must be 1..128 printable characters' },
    ]);
  },
);
