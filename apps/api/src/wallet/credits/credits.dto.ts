import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

export class CreditBody {
  @ApiProperty({ minimum: 1, maximum: 1e12, description: 'minor units' })
  @IsInt()
  @Min(1)
  @Max(1e12)
  readonly amountMinor!: number;

  @ApiProperty({ minLength: 1, maxLength: 64, description: 'the top-up id; credited once' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  readonly reference!: string;

  @ApiPropertyOptional({ default: 'CNY' })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be 3 upper-case letters' })
  readonly currency?: string;
}

export class FanIdParam {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  readonly fanId!: string;
}
