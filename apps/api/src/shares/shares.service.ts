import { Injectable } from '@nestjs/common';
import { DomainError } from '@flashdrop/contracts';
import { Inventory, isDropId, refusalError } from '@flashdrop/inventory';
import { DropsService } from '../drops/drops.service';
import { ShareView } from './share.dto';

/** A share is an event (share.recorded) and a counter; analytics counts it from the stream. */
@Injectable()
export class SharesService {
  constructor(
    private readonly inventory: Inventory,
    private readonly drops: DropsService,
  ) {}

  async share(dropId: string, fanId: string, channel: string): Promise<ShareView> {
    if (!isDropId(dropId)) throw DomainError.notFound('drop');
    let r = await this.inventory.share(dropId, fanId, channel);
    if (!r.ok && r.code === 'NOT_FOUND' && (await this.drops.ensureMirrored(dropId))) {
      r = await this.inventory.share(dropId, fanId, channel);
    }
    if (!r.ok) throw refusalError(r);
    return { dropId, fanId, channel };
  }
}
