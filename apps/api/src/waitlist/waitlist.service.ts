import { Injectable } from '@nestjs/common';
import { DomainError } from '@flashdrop/contracts';
import { Inventory, isDropId, refusalError } from '@flashdrop/inventory';
import { DropsService } from '../drops/drops.service';

/** POST /v1/drops/:id/waitlist's answer (API.md "Fair launch"). */
export interface WaitlistView {
  readonly dropId: string;
  readonly fanId: string;
  /** 1 for the next fan to be served. */
  readonly position: number;
}

/**
 * The waitlist of a sold-out first-come drop: one Lua step (join_waitlist.lua: the checks, the
 * place, the event). What the line is for happens elsewhere: every release passes its units
 * down it in the step that frees them (libs/inventory _lib.lua hand_down).
 */
@Injectable()
export class WaitlistService {
  constructor(
    private readonly inventory: Inventory,
    private readonly drops: DropsService,
  ) {}

  async join(
    dropId: string,
    fanId: string,
    tier?: string,
  ): Promise<{ created: boolean; view: WaitlistView }> {
    if (!isDropId(dropId)) throw DomainError.notFound('drop');
    let r = await this.inventory.joinWaitlist(dropId, fanId, tier);
    if (!r.ok && r.code === 'NOT_FOUND' && (await this.drops.ensureMirrored(dropId))) {
      r = await this.inventory.joinWaitlist(dropId, fanId, tier);
    }
    if (!r.ok) throw refusalError(r);
    return { created: r.value.created, view: { dropId, fanId, position: r.value.position } };
  }
}
