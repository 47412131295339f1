import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TIER_PATTERN } from '@flashdrop/contracts';
import { IsRfc3339 } from '@flashdrop/http';
import { Allocations, MAX_STOCK_BUCKETS } from '@flashdrop/inventory';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidationOptions,
} from 'class-validator';

/** Optional, but present means valid: `null` is a wrong type, not an absent field. */
const Optional = (options?: ValidationOptions) =>
  ValidateIf((_, value) => value !== undefined, options);

const TIME = 'RFC 3339 with Z or an offset, years 1970..9999';

/** The fields of a drop body, each with the bounds of docs/api.md ("Drops"). */
export class CreateDropDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  readonly title!: string;

  @ApiProperty({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'sku must be 1..64 of A-Za-z0-9_-' })
  readonly sku!: string;

  @ApiProperty({ minimum: 1, maximum: 1e12 })
  @IsInt()
  @Min(1)
  @Max(1e12)
  readonly priceMinor!: number;

  @ApiPropertyOptional({ default: 'CNY', pattern: '^[A-Z]{3}$' })
  @Optional()
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be 3 upper-case letters' })
  readonly currency?: string;

  @ApiProperty({ minimum: 1, maximum: 10_000_000 })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  readonly quantity!: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(100)
  readonly perUserLimit?: number;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  readonly reservationRequired?: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: TIME })
  @Optional()
  @IsRfc3339()
  readonly reservationOpensAt?: string;

  @ApiPropertyOptional({ format: 'date-time', description: TIME })
  @Optional()
  @IsRfc3339()
  readonly reservationClosesAt?: string;

  @ApiProperty({ format: 'date-time', description: TIME })
  @IsRfc3339()
  readonly saleStartsAt!: string;

  @ApiPropertyOptional({ format: 'date-time', description: TIME })
  @Optional()
  @IsRfc3339()
  readonly saleEndsAt?: string;

  @ApiPropertyOptional({ minimum: 10, maximum: 3600, default: 600 })
  @Optional()
  @IsInt()
  @Min(10)
  @Max(3600)
  readonly holdSeconds?: number;

  @ApiPropertyOptional({
    enum: Allocations,
    default: 'first_come',
    description: 'first_come: the rush; draw: a seeded shuffle of the reservations at saleStartsAt',
  })
  @Optional()
  @IsIn(Allocations, { message: `allocation must be one of ${Allocations.join(', ')}` })
  readonly allocation?: (typeof Allocations)[number];

  @ApiPropertyOptional({
    pattern: TIER_PATTERN.source,
    description: "members-only: only fans whose token's tier claim is this may take part",
  })
  @Optional()
  @IsString()
  @Matches(TIER_PATTERN, { message: 'audienceTier must be 1..32 of a-z0-9_-' })
  readonly audienceTier?: string;

  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    description: 'what a fan who shared the drop before grabbing saves per unit (< priceMinor)',
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(1e12)
  readonly shareDiscountMinor?: number;

  @ApiPropertyOptional({
    minimum: 0,
    default: 0,
    description:
      'what the referrer of a fan who reserved with referrerId earns per paid order, from the ' +
      "brand's revenue (<= priceMinor - shareDiscountMinor)",
  })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(1e12)
  readonly referralRewardMinor?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_STOCK_BUCKETS,
    default: 1,
    description:
      'how many Redis slots the rush is spread over (docs/scale.md "Buckets"); 1 is the ' +
      'one-step grab; not with allocation draw; fixed at creation',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_STOCK_BUCKETS)
  readonly stockBuckets?: number;

  @ApiPropertyOptional({
    minimum: 2,
    maximum: 50,
    description:
      'group buy: a purchase starts or joins a group of this many members; the group completes ' +
      'when this many members have paid, else fails groupSeconds after it started',
  })
  @Optional()
  @IsInt()
  @Min(2)
  @Max(50)
  readonly groupSize?: number;

  @ApiPropertyOptional({
    minimum: 60,
    maximum: 86400,
    default: 3600,
    description: 'group buy: how long a group has to complete after it started',
  })
  @Optional()
  @IsInt()
  @Min(60)
  @Max(86400)
  readonly groupSeconds?: number;
}

/** PATCH: any subset of the create body; the merged drop must satisfy the same rules. */
export class UpdateDropDto {
  @ApiPropertyOptional() @Optional() @IsString() @Length(1, 200) readonly title?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'sku must be 1..64 of A-Za-z0-9_-' })
  readonly sku?: string;

  @ApiPropertyOptional() @Optional() @IsInt() @Min(1) @Max(1e12) readonly priceMinor?: number;

  @ApiPropertyOptional()
  @Optional()
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be 3 upper-case letters' })
  readonly currency?: string;

  @ApiPropertyOptional() @Optional() @IsInt() @Min(1) @Max(10_000_000) readonly quantity?: number;
  @ApiPropertyOptional() @Optional() @IsInt() @Min(1) @Max(100) readonly perUserLimit?: number;
  @ApiPropertyOptional() @Optional() @IsBoolean() readonly reservationRequired?: boolean;
  @ApiPropertyOptional() @Optional() @IsRfc3339() readonly reservationOpensAt?: string;
  @ApiPropertyOptional() @Optional() @IsRfc3339() readonly reservationClosesAt?: string;
  @ApiPropertyOptional() @Optional() @IsRfc3339() readonly saleStartsAt?: string;
  @ApiPropertyOptional() @Optional() @IsRfc3339() readonly saleEndsAt?: string;
  @ApiPropertyOptional() @Optional() @IsInt() @Min(10) @Max(3600) readonly holdSeconds?: number;

  @ApiPropertyOptional({ enum: Allocations })
  @Optional()
  @IsIn(Allocations, { message: `allocation must be one of ${Allocations.join(', ')}` })
  readonly allocation?: (typeof Allocations)[number];

  @ApiPropertyOptional({ pattern: TIER_PATTERN.source })
  @Optional()
  @IsString()
  @Matches(TIER_PATTERN, { message: 'audienceTier must be 1..32 of a-z0-9_-' })
  readonly audienceTier?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsInt()
  @Min(0)
  @Max(1e12)
  readonly shareDiscountMinor?: number;

  @ApiPropertyOptional()
  @Optional()
  @IsInt()
  @Min(0)
  @Max(1e12)
  readonly referralRewardMinor?: number;

  @ApiPropertyOptional()
  @Optional()
  @IsInt()
  @Min(2)
  @Max(50)
  readonly groupSize?: number;

  @ApiPropertyOptional()
  @Optional()
  @IsInt()
  @Min(60)
  @Max(86400)
  readonly groupSeconds?: number;
}
