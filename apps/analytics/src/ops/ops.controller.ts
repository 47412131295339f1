import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import { Public, RequireRoles } from '@flashdrop/auth';
import { DomainError } from '@flashdrop/contracts';
import { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { findRepoPath } from '@flashdrop/config';
import { OpsDropSummary, OpsDrops } from './ops-drops.service';

const PUBLIC_DIR = 'apps/analytics/src/ops/public';

/**
 * The dashboard's files, served by the app itself (these machines reach no CDN): the page, its
 * script and style, and Chart.js's browser build from node_modules. Read once, on first use.
 */
const ASSETS: Record<string, { path: string; type: string }> = {
  'ops.js': { path: `${PUBLIC_DIR}/ops.js`, type: 'text/javascript; charset=utf-8' },
  'report.js': { path: `${PUBLIC_DIR}/report.js`, type: 'text/javascript; charset=utf-8' },
  'ops.css': { path: `${PUBLIC_DIR}/ops.css`, type: 'text/css; charset=utf-8' },
  'chart.umd.min.js': {
    path: 'node_modules/chart.js/dist/chart.umd.min.js',
    type: 'text/javascript; charset=utf-8',
  },
};

const cache = new Map<string, Buffer>();
function load(path: string): Buffer {
  let body = cache.get(path);
  if (!body) {
    body = readFileSync(findRepoPath(path));
    cache.set(path, body);
  }
  return body;
}

@ApiTags('ops')
@Controller()
export class OpsController {
  constructor(private readonly drops: OpsDrops) {}

  /** GET /ops: the operators' live dashboard (the page is public; its data needs a token). */
  @Public()
  @Get('ops')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): Buffer {
    return load(`${PUBLIC_DIR}/index.html`);
  }

  /** GET /ops/report: one drop's report after the sale (public page; its data needs a token). */
  @Public()
  @Get('ops/report')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  reportPage(): Buffer {
    return load(`${PUBLIC_DIR}/report.html`);
  }

  @Public()
  @Get('ops/assets/:name')
  @ApiExcludeEndpoint()
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    const asset = Object.prototype.hasOwnProperty.call(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new DomainError('NOT_FOUND', `no asset ${name}`);
    void reply
      .header('content-type', asset.type)
      .header('cache-control', 'public, max-age=300')
      .send(load(asset.path));
  }

  /** GET /v1/ops/drops: the drops the dashboard's picker offers (operators). */
  @Get('v1/ops/drops')
  @RequireRoles('operator')
  list(): Promise<OpsDropSummary[]> {
    return this.drops.list();
  }
}
