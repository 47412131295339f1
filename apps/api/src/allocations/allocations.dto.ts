import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A decimal integer of at most 15 digits as a number; anything else is left for the rules. */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;

export const ALLOCATIONS_PAGE_MAX = 1000;

export class AllocationsQuery {
  @ApiPropertyOptional({ minimum: 0, description: 'the seq of the last entry already read' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  readonly after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: ALLOCATIONS_PAGE_MAX, default: 500 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(ALLOCATIONS_PAGE_MAX)
  readonly limit?: number;
}
