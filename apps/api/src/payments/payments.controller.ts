import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Order, Principal } from '@flashdrop/contracts';
import { IdempotencyKey, OrderIdParam } from './payments.dto';
import { PaymentsService } from './payments.service';

/** A fan pays their held order from their wallet (API.md "Fans"): debited exactly once. */
@ApiTags('orders')
@ApiBearerAuth()
@RequireRoles('fan')
@Controller('v1/orders')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post(':id/payment')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  pay(
    @CurrentPrincipal() fan: Principal,
    @Param() params: OrderIdParam,
    @IdempotencyKey() idempotencyKey?: string,
  ): Promise<Order> {
    return this.payments.pay(params.id, fan.sub, idempotencyKey);
  }
}
