import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { BalanceReply, DEFAULT_CURRENCY, Principal, TransactionsReply } from '@flashdrop/contracts';
import { WalletClient } from '@flashdrop/wallet-client';
import { BalanceQuery, TransactionsQuery } from './wallet.dto';

/** A fan's own wallet (docs/api.md "Fans"): always the caller's, never anyone else's. */
@ApiTags('wallet')
@ApiBearerAuth()
@RequireRoles('fan')
@Controller('v1/wallet')
export class WalletController {
  constructor(private readonly wallet: WalletClient) {}

  @Get()
  balance(@CurrentPrincipal() fan: Principal, @Query() query: BalanceQuery): Promise<BalanceReply> {
    return this.wallet.balance({ fanId: fan.sub, currency: query.currency ?? DEFAULT_CURRENCY });
  }

  @Get('transactions')
  transactions(
    @CurrentPrincipal() fan: Principal,
    @Query() query: TransactionsQuery,
  ): Promise<TransactionsReply> {
    return this.wallet.transactions({
      fanId: fan.sub,
      currency: query.currency ?? DEFAULT_CURRENCY,
      limit: query.limit ?? 20,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
  }
}
