import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class ShareDto {
  @ApiProperty({ minLength: 1, maxLength: 32 })
  @IsString()
  @Length(1, 32)
  readonly channel!: string;
}

export interface ShareView {
  readonly dropId: string;
  readonly fanId: string;
  readonly channel: string;
  /** The channel the share counts under: `channel`, or `other` past the drop's channel cap. */
  readonly countedAs: string;
}
