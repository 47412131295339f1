import { Module } from '@nestjs/common';
import { DropsController } from './drops.controller';
import { DropsService } from './drops.service';

const controllers = [DropsController];
const providers = [DropsService];

@Module({
  controllers,
  providers,
  exports: [DropsService],
})
export class DropsModule {}
