import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '@flashdrop/webhooks';

/** POST /v1/webhooks (docs/api.md "Brands' fulfilment"). */
export class CreateWebhookDto {
  @ApiProperty({
    description: 'https URL (http only to loopback, outside production)',
    maxLength: 2048,
  })
  @IsString()
  @MaxLength(2048)
  readonly url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsArray()
  @ArrayMinSize(1, { message: 'events must name at least one event' })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique({ message: 'events must not repeat an event' })
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  readonly events!: WebhookEventType[];
}

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value;

export class DeliveriesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  readonly limit?: number;
}

/** A webhook as its brand sees it; `secret` only in the answer that created it. */
export interface WebhookView {
  readonly id: string;
  readonly url: string;
  readonly events: WebhookEventType[];
  readonly createdAt: string;
  readonly secret?: string;
}
