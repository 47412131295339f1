import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Order, Principal } from '@flashdrop/contracts';
import { checkOrderId, IdempotencyKey } from './payments.dto';
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
  @ApiParam({ name: 'id', description: 'the order id (1..64 characters)' })
  pay(
    @CurrentPrincipal() fan: Principal,
    @Param('id') id: string,
    @IdempotencyKey() idempotencyKey?: string,
  ): Promise<Order> {
    return this.payments.pay(checkOrderId(id), fan.sub, idempotencyKey);
  }
}
