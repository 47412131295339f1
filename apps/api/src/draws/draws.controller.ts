import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@flashdrop/auth';
import { EntrantsQuery } from './draws.dto';
import { DrawsService, DrawView, EntrantsPage } from './draws.service';

@ApiTags('fair launch')
@Controller('v1/drops/:id/draw')
export class DrawsController {
  constructor(private readonly draws: DrawsService) {}

  /** The draw's commitment, entrants' count and digest; its seed and winners once drawn. */
  @Public()
  @Get()
  view(@Param('id') id: string): Promise<DrawView> {
    return this.draws.view(id);
  }

  /** The frozen entrants (sorted), page by page, as `entrantsDigest` covers them. */
  @Public()
  @Get('entrants')
  entrants(@Param('id') id: string, @Query() query: EntrantsQuery): Promise<EntrantsPage> {
    return this.draws.entrants(id, query.cursor);
  }
}
