import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CreditRequest } from '@flashdrop/contracts';

export class CreditMessage implements CreditRequest {
  @IsString() @MinLength(1) @MaxLength(128) readonly fanId!: string;
  @IsInt() @Min(1) @Max(1e12) readonly amountMinor!: number;
  @Matches(/^[A-Z]{3}$/) readonly currency!: string;
  @IsString() @MinLength(1) @MaxLength(64) readonly reference!: string;
}
