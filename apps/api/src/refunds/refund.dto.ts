import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** POST /v1/orders/:id/refund (docs/api.md "Campaigns"). */
export class RefundDto {
  @ApiProperty({ minLength: 1, maxLength: 200, description: 'why: shown with the refund' })
  @IsString()
  @Length(1, 200)
  readonly reason!: string;
}
