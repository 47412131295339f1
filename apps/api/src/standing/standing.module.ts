import { Module } from '@nestjs/common';
import { DropsModule } from '../drops/drops.module';
import { StandingController } from './standing.controller';
import { StandingHub } from './standing-hub';
import { StandingService } from './standing.service';

@Module({
  imports: [DropsModule],
  controllers: [StandingController],
  providers: [StandingService, StandingHub],
})
export class StandingModule {}
