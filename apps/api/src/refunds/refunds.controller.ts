import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Order, Principal } from '@flashdrop/contracts';
import { ApiRefusals } from '@flashdrop/http';
import { RefundDto } from './refund.dto';
import { RefundsService } from './refunds.service';

@ApiTags('brands')
@ApiBearerAuth()
@Controller('v1/orders/:id/refund')
export class RefundsController {
  constructor(private readonly refunds: RefundsService) {}

  @RequireRoles('brand', 'operator')
  @Post()
  @HttpCode(200)
  // The 200 (the order, refunded; a repeat moves nothing) is Nest's own from @HttpCode; the 404
  // (no such order, or another brand's) is every :id route's (libs/http completeDocument). 402:
  // the brand's revenue cannot pay the refund (the order stays paid, nothing moved).
  @ApiRefusals('ORDER_NOT_PAID', 'INSUFFICIENT_FUNDS')
  refund(
    @CurrentPrincipal() p: Principal,
    @Param('id') orderId: string,
    @Body() body: RefundDto,
  ): Promise<Order> {
    return this.refunds.refund(p, orderId, body.reason);
  }
}
