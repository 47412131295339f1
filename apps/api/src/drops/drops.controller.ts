import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Public, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { CreateDropDto, UpdateDropDto } from './drop.dto';
import { DropView } from './drop.view';
import { DropsService } from './drops.service';

@ApiTags('drops')
@ApiBearerAuth()
@Controller('v1/drops')
export class DropsController {
  constructor(private readonly drops: DropsService) {}

  @RequireRoles('brand')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateDropDto): Promise<DropView> {
    return this.drops.create(p.sub, body);
  }

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

  @RequireRoles('brand')
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: UpdateDropDto,
  ): Promise<DropView> {
    return this.drops.update(p.sub, id, body);
  }

  @RequireRoles('brand', 'operator')
  @Post(':id/pause')
  @HttpCode(200)
  pause(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DropView> {
    return this.drops.setPaused(p, id, true);
  }

  @RequireRoles('brand', 'operator')
  @Post(':id/resume')
  @HttpCode(200)
  resume(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DropView> {
    return this.drops.setPaused(p, id, false);
  }

  @RequireRoles('brand')
  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<DropView> {
    return this.drops.cancel(p.sub, id);
  }
}
