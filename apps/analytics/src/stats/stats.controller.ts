import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { DropAccess } from '../access/drop-access.service';
import { StatsStore } from './stats-store';
import { DropStats } from './stats.types';

@ApiTags('stats')
@ApiBearerAuth()
@Controller('v1/drops/:id/stats')
export class StatsController {
  constructor(
    private readonly access: DropAccess,
    private readonly stats: StatsStore,
  ) {}

  /** GET /v1/drops/:id/stats: operator or the owner brand. */
  @Get()
  @RequireRoles('operator', 'brand')
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<DropStats> {
    await this.access.assertCanRead(principal, id);
    return this.stats.read(id);
  }
}
