import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiRefusals } from '@flashdrop/http';
import { CurrentPrincipal, Public, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { CreateDropDto, UpdateDropDto } from './drop.dto';
import { DropView } from '@flashdrop/inventory';
import { DropsService } from './drops.service';

/** Every route takes a bearer token but GET /v1/drops/:id (public), so security is per route. */
@ApiTags('drops')
@Controller('v1/drops')
export class DropsController {
  constructor(private readonly drops: DropsService) {}

  @ApiBearerAuth()
  @RequireRoles('brand')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateDropDto): Promise<DropView> {
    return this.drops.create(p.sub, body);
  }

  @ApiBearerAuth()
  @RequireRoles('brand', 'operator')
  @Get()
  list(@CurrentPrincipal() p: Principal): Promise<DropView[]> {
    return this.drops.list(p);
  }

  @Public()
  @Get(':id')
  get(@Param('id') id: string): Promise<DropView> {
    return this.drops.view(id);
  }

  @ApiBearerAuth()
  @RequireRoles('brand')
  @Patch(':id')
  @ApiRefusals('DROP_LOCKED')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: UpdateDropDto,
  ): Promise<DropView> {
    return this.drops.update(p.sub, id, body);
  }

  @ApiBearerAuth()
  @RequireRoles('brand', 'operator')
  @Post(':id/pause')
  @HttpCode(200)
  @ApiRefusals('DROP_LOCKED')
  pause(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DropView> {
    return this.drops.setPaused(p, id, true);
  }

  @ApiBearerAuth()
  @RequireRoles('brand', 'operator')
  @Post(':id/resume')
  @HttpCode(200)
  @ApiRefusals('DROP_LOCKED')
  resume(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DropView> {
    return this.drops.setPaused(p, id, false);
  }

  @ApiBearerAuth()
  @RequireRoles('brand')
  @Post(':id/cancel')
  @HttpCode(200)
  @ApiRefusals('DROP_LOCKED')
  cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DropView> {
    return this.drops.cancel(p.sub, id);
  }
}
