import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DropEntity } from './drop.entity';
import { DropsController } from './drops.controller';
import { DropsService } from './drops.service';

const controllers = [DropsController];
const providers = [DropsService];

@Module({
  imports: [TypeOrmModule.forFeature([DropEntity])],
  controllers,
  providers,
  exports: [DropsService],
})
export class DropsModule {}
