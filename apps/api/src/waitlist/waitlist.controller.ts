import { Controller, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { ApiRefusals } from '@flashdrop/http';
import { Principal } from '@flashdrop/contracts';
import { FastifyReply } from 'fastify';
import { WaitlistService, WaitlistView } from './waitlist.service';

@ApiTags('fans')
@ApiBearerAuth()
@Controller('v1/drops/:id/waitlist')
export class WaitlistController {
  constructor(private readonly waitlist: WaitlistService) {}

  @RequireRoles('fan')
  @Post()
  @ApiResponse({ status: 201, description: 'queued' })
  @ApiResponse({ status: 200, description: 'already in line: the same place' })
  @ApiRefusals('NOT_RESERVED', 'MEMBERS_ONLY', 'NOT_SOLD_OUT', 'SALE_ENDED', 'DRAW_ONLY')
  async join(
    @CurrentPrincipal() p: Principal,
    @Param('id') dropId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WaitlistView> {
    const { created, view } = await this.waitlist.join(dropId, p.sub, p.tier);
    void reply.status(created ? 201 : 200);
    return view;
  }
}
