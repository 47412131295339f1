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
import { BalanceRequest, TransactionsRequest } from '@flashdrop/contracts';

export class BalanceMessage implements BalanceRequest {
  @IsString() @MinLength(1) @MaxLength(128) readonly fanId!: string;
  @Matches(/^[A-Z]{3}$/) readonly currency!: string;
}

export class TransactionsMessage implements TransactionsRequest {
  @IsString() @MinLength(1) @MaxLength(128) readonly fanId!: string;
  @Matches(/^[A-Z]{3}$/) readonly currency!: string;
  @IsOptional() @IsString() @MaxLength(64) readonly cursor?: string;
  @IsInt() @Min(1) @Max(100) readonly limit!: number;
}
