import { Module } from '@nestjs/common';
import { WalletClientModule } from '@flashdrop/wallet-client';
import { RefundsController } from './refunds.controller';
import { RefundsService } from './refunds.service';

/** POST /v1/orders/:id/refund (apps/wallet/PAYMENTS.md "Refunds"). */
@Module({
  imports: [WalletClientModule],
  controllers: [RefundsController],
  providers: [RefundsService],
})
export class RefundsModule {}
