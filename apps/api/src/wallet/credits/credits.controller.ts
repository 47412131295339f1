import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiRefusals } from '@flashdrop/http';
import { FastifyReply } from 'fastify';
import { RequireRoles } from '@flashdrop/auth';
import { DEFAULT_CURRENCY } from '@flashdrop/contracts';
import { WalletClient } from '@flashdrop/wallet-client';
import { CreditBody, FanIdParam } from './credits.dto';

/**
 * Operators credit a fan's wallet from a confirmed top-up: 201 the first time a reference is
 * seen, 200 (credited once, nothing moved) for the same reference again.
 */
@ApiTags('wallet')
@ApiBearerAuth()
@RequireRoles('operator')
@Controller('v1/wallets')
export class CreditsController {
  constructor(private readonly wallet: WalletClient) {}

  @Post(':fanId/credits')
  @HttpCode(201)
  @ApiResponse({ status: 201, description: 'Credited' })
  @ApiResponse({ status: 200, description: 'This reference was credited before; nothing moved' })
  @ApiRefusals('IDEMPOTENCY_KEY_REUSED')
  async credit(
    @Param() params: FanIdParam,
    @Body() body: CreditBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ fanId: string; balanceMinor: number }> {
    const result = await this.wallet.credit({
      fanId: params.fanId,
      amountMinor: body.amountMinor,
      currency: body.currency ?? DEFAULT_CURRENCY,
      reference: body.reference,
    });
    if (!result.created) void reply.status(200);
    return { fanId: result.fanId, balanceMinor: result.balanceMinor };
  }
}
