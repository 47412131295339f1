import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { DropOrdersPage, DropOrdersQuery } from './drop-orders.dto';
import { DropOrdersService } from './drop-orders.service';
import { ORDER_CSV_HEADER, orderCsvLines } from './orders-csv';

/** The header that carries a CSV page's next cursor (the JSON page has `nextCursor`). */
const NEXT_CURSOR_HEADER = 'x-next-cursor';

@ApiTags('fulfilment')
@ApiBearerAuth()
@Controller('v1/drops/:id/orders')
export class DropOrdersController {
  constructor(private readonly exports: DropOrdersService) {}

  /**
   * GET /v1/drops/:id/orders: one page of the drop's orders in storage order (owner brand or
   * operator); with `Accept: text/csv` the same page as CSV, streamed chunk by chunk.
   */
  @Get()
  @RequireRoles('brand', 'operator')
  @ApiProduces('application/json', 'text/csv')
  async list(
    @CurrentPrincipal() caller: Principal,
    @Param('id') dropId: string,
    @Query() query: DropOrdersQuery,
    @Headers('accept') accept: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const page = await this.exports.page(caller, dropId, query);
    if (page.nextCursor !== undefined) void reply.header(NEXT_CURSOR_HEADER, page.nextCursor);
    if (accept?.includes('text/csv')) {
      const lines = async function* () {
        yield ORDER_CSV_HEADER;
        for await (const chunk of page.rows()) yield orderCsvLines(chunk);
      };
      void reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="orders-${dropId}.csv"`);
      return reply.send(Readable.from(lines()));
    }
    const body: { -readonly [K in keyof DropOrdersPage]: DropOrdersPage[K] } = { items: [] };
    for await (const chunk of page.rows()) body.items.push(...chunk);
    if (page.nextCursor !== undefined) body.nextCursor = page.nextCursor;
    return reply.send(body);
  }
}
