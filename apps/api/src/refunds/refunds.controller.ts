import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Order, Principal } from '@flashdrop/contracts';
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
  @ApiResponse({ status: 200, description: 'the order, refunded (a repeat moves nothing)' })
  @ApiResponse({ status: 404, description: 'no such order, or another brand’s' })
  @ApiResponse({ status: 409, description: 'ORDER_NOT_PAID' })
  refund(
    @CurrentPrincipal() p: Principal,
    @Param('id') orderId: string,
    @Body() body: RefundDto,
  ): Promise<Order> {
    return this.refunds.refund(p, orderId, body.reason);
  }
}
