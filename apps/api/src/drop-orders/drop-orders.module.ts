import { Module } from '@nestjs/common';
import { DropOrdersController } from './drop-orders.controller';
import { DropOrdersService } from './drop-orders.service';

/** The brands' order export (docs/api.md "Brands' fulfilment"), read from PostgreSQL. */
@Module({ controllers: [DropOrdersController], providers: [DropOrdersService] })
export class DropOrdersModule {}
