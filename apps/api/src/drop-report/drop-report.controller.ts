import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRoles } from '@flashdrop/auth';
import { Principal } from '@flashdrop/contracts';
import { FastifyReply } from 'fastify';
import { DropReportQuery } from './drop-report.dto';
import { DropReportService } from './drop-report.service';
import { reportCsv } from './report-csv';

@ApiTags('fulfilment')
@ApiBearerAuth()
@Controller('v1/drops/:id/report')
export class DropReportController {
  constructor(private readonly reports: DropReportService) {}

  /**
   * GET /v1/drops/:id/report: the drop's report after the sale (owner brand or operator), JSON;
   * with `?format=csv` or `Accept: text/csv` its seconds as CSV.
   */
  @Get()
  @RequireRoles('brand', 'operator')
  @ApiProduces('application/json', 'text/csv')
  async report(
    @CurrentPrincipal() caller: Principal,
    @Param('id') dropId: string,
    @Query() query: DropReportQuery,
    @Headers('accept') accept: string | undefined,
    @Headers('authorization') authorization: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const report = await this.reports.report(caller, dropId, authorization);
    void reply.header('cache-control', 'no-store');
    const csv =
      query.format === 'csv' || (query.format === undefined && accept?.includes('text/csv'));
    if (csv) {
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="report-${dropId}.csv"`)
        .send(reportCsv(report.perSecond));
    }
    return reply.send(report);
  }
}
