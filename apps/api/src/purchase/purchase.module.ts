import { Module } from '@nestjs/common';
import { PurchaseRoute } from './purchase.route';
import { PurchaseService } from './purchase.service';

/** The grab. No controller: PurchaseRoute is mounted on Fastify by createHttpApp. */
@Module({ providers: [PurchaseService, PurchaseRoute] })
export class PurchaseModule {}
