import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { DebitRequest, SettleRequest } from '@flashdrop/contracts';

export class DebitMessage implements DebitRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsInt() @Min(0) readonly attempt!: number;
  @IsString() @MinLength(1) @MaxLength(128) readonly fanId!: string;
  @IsString() @MinLength(1) @MaxLength(128) readonly dropId!: string;
  @IsString() @MinLength(1) @MaxLength(128) readonly brandId!: string;
  @IsInt() @Min(1) @Max(1e15) readonly amountMinor!: number;
  @Matches(/^[A-Z]{3}$/) readonly currency!: string;
}

export class SettleMessage implements SettleRequest {
  @IsString() @MinLength(1) @MaxLength(200) readonly orderId!: string;
  @IsInt() @Min(0) readonly attempt!: number;
}
