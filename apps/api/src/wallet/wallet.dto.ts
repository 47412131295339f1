import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value;

export class BalanceQuery {
  @ApiPropertyOptional({ default: 'CNY' })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be 3 upper-case letters' })
  readonly currency?: string;
}

export class TransactionsQuery extends BalanceQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  readonly cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  readonly limit?: number;
}
