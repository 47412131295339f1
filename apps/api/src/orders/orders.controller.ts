import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiRefusals } from '@flashdrop/http';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Order, Principal } from '@flashdrop/contracts';
import { OrdersService } from './orders.service';

@ApiTags('fans')
@ApiBearerAuth()
@RequireRoles('fan')
@Controller('v1/orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  list(@CurrentPrincipal() p: Principal): Promise<Order[]> {
    return this.orders.list(p.sub);
  }

  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<Order> {
    return this.orders.get(p.sub, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiRefusals('HOLD_EXPIRED', 'ORDER_PAID', 'PAYMENT_IN_PROGRESS', 'TOO_MANY_REQUESTS')
  cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<Order> {
    return this.orders.cancel(p.sub, id);
  }
}
