import { Module } from '@nestjs/common';
import { DropsModule } from '../drops/drops.module';
import { DrawsController } from './draws.controller';
import { DrawsService } from './draws.service';

@Module({
  imports: [DropsModule],
  controllers: [DrawsController],
  providers: [DrawsService],
})
export class DrawsModule {}
