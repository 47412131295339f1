import { Controller, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';
import { PRINCIPAL_PROPERTY, RequestWithPrincipal, RequireRoles } from '@flashdrop/auth';
import { PurchaseService } from './purchase.service';

type GrabRequest = FastifyRequest<{ Params: { id: string } }> & RequestWithPrincipal;

/**
 * POST /v1/drops/:id/purchases. Raw request and reply instead of DTO pipes and thrown
 * exceptions: this route is the rush (see PurchaseService).
 */
@ApiTags('fans')
@ApiBearerAuth()
@Controller('v1/drops/:id/purchases')
export class PurchaseController {
  constructor(private readonly purchases: PurchaseService) {}

  @RequireRoles('fan')
  @Post()
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiBody({
    required: false,
    schema: { type: 'object', properties: { quantity: { type: 'integer', minimum: 1 } } },
  })
  @ApiResponse({ status: 201, description: 'Order held until expiresAt' })
  async purchase(@Req() req: GrabRequest, @Res() reply: FastifyReply): Promise<void> {
    // The AuthGuard (fan role) has run, so the principal is set.
    const fanId = req[PRINCIPAL_PROPERTY]!.sub;
    const answer = await this.purchases.grab(
      req.params.id,
      fanId,
      req.body,
      req.headers['idempotency-key'],
    );
    void reply.status(answer.status).send(answer.body);
  }
}
