import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, ValidateIf } from 'class-validator';

export class ReserveDto {
  /** The fan whose share brought this fan here (counted as a referral). */
  @ApiPropertyOptional({ minLength: 1, maxLength: 128 })
  @ValidateIf((_, v) => v !== undefined)
  @IsString()
  @Length(1, 128)
  readonly referrerId?: string;
}

export interface ReservationView {
  readonly dropId: string;
  readonly fanId: string;
  readonly reservedAt: string;
}
