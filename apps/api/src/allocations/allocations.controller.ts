import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@flashdrop/auth';
import { AllocationsQuery } from './allocations.dto';
import { AllocationsPage, AllocationsService } from './allocations.service';

@ApiTags('fair launch')
@Controller('v1/drops/:id/allocations')
export class AllocationsController {
  constructor(private readonly allocations: AllocationsService) {}

  /** Every unit handed out, in order, hash-chained; page on with `after` = the last seq read. */
  @Public()
  @Get()
  page(@Param('id') id: string, @Query() query: AllocationsQuery): Promise<AllocationsPage> {
    return this.allocations.page(id, query.after ?? 0, query.limit ?? 500);
  }
}
