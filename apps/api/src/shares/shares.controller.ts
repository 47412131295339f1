import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiRefusals } from '@flashdrop/http';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { ShareDto, ShareView } from './share.dto';
import { SharesService } from './shares.service';

@ApiTags('fans')
@ApiBearerAuth()
@Controller('v1/drops/:id/shares')
export class SharesController {
  constructor(private readonly shares: SharesService) {}

  @RequireRoles('fan')
  @Post()
  @HttpCode(202)
  @ApiRefusals('TOO_MANY_REQUESTS')
  share(
    @CurrentPrincipal() p: Principal,
    @Param('id') dropId: string,
    @Body() body: ShareDto,
  ): Promise<ShareView> {
    return this.shares.share(dropId, p.sub, body.channel);
  }
}
