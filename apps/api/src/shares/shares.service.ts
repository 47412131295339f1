import { Inject, Injectable } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { DomainError } from '@flashdrop/contracts';
import { Inventory, isDropId, refusalError } from '@flashdrop/inventory';
import { DropsService } from '../drops/drops.service';
import { FanRateLimiter } from '../rate-limit/fan-rate-limiter';
import { ShareView } from './share.dto';

/**
 * A share is an event (share.recorded) and a counter; analytics counts it from the stream.
 * Bounded twice: a rate per fan (SHARE_RATE_LIMIT_PER_MINUTE, then 429 with Retry-After), and
 * the distinct channels a drop counts by name (share.lua; the rest count under `other`).
 */
@Injectable()
export class SharesService {
  private readonly limiter: FanRateLimiter;

  constructor(
    private readonly inventory: Inventory,
    private readonly drops: DropsService,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.limiter = new FanRateLimiter(config.SHARE_RATE_LIMIT_PER_MINUTE, 60_000);
  }

  async share(dropId: string, fanId: string, channel: string): Promise<ShareView> {
    if (!isDropId(dropId)) throw DomainError.notFound('drop');
    if (!this.limiter.allow(fanId)) {
      throw DomainError.tooMany('shares', this.limiter.retryAfterSeconds());
    }
    let r = await this.inventory.share(dropId, fanId, channel);
    if (!r.ok && r.code === 'NOT_FOUND' && (await this.drops.ensureMirrored(dropId))) {
      r = await this.inventory.share(dropId, fanId, channel);
    }
    if (!r.ok) throw refusalError(r);
    return { dropId, fanId, channel, countedAs: r.value };
  }
}
