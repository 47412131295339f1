import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Order, OrderStatus } from '@flashdrop/contracts';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : value;

/** The Order statuses a brand may filter its export by (docs/api.md "Fans"). */
export const EXPORT_STATUSES: readonly OrderStatus[] = [
  'held',
  'paid',
  'cancelled',
  'expired',
  'refunded',
];

/** GET /v1/drops/:id/orders?status=&cursor=&limit= (docs/api.md "Brands' fulfilment"). */
export class DropOrdersQuery {
  @ApiPropertyOptional({ enum: EXPORT_STATUSES })
  @IsOptional()
  @IsIn(EXPORT_STATUSES, { message: `status must be one of ${EXPORT_STATUSES.join(', ')}` })
  readonly status?: OrderStatus;

  @ApiPropertyOptional({ description: 'nextCursor (or X-Next-Cursor) of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  readonly cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be an integer 1..1000' })
  @Min(1, { message: 'limit must be an integer 1..1000' })
  @Max(1000, { message: 'limit must be an integer 1..1000' })
  readonly limit?: number;
}

export interface DropOrdersPage {
  readonly items: Order[];
  readonly nextCursor?: string;
}
