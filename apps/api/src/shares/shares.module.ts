import { Module } from '@nestjs/common';
import { DropsModule } from '../drops/drops.module';
import { SharesController } from './shares.controller';
import { SharesService } from './shares.service';

@Module({
  imports: [DropsModule],
  controllers: [SharesController],
  providers: [SharesService],
})
export class SharesModule {}
