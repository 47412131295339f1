import { Injectable } from '@nestjs/common';
import { Inventory, isDropId, refusalError } from '@flashdrop/inventory';
import { DomainError } from '@flashdrop/contracts';
import { DropsService } from '../drops/drops.service';
import { ReservationView } from './reservation.dto';

/** Reservations: one Lua step (window check on Redis TIME, idempotent per fan, event). */
@Injectable()
export class ReservationsService {
  constructor(
    private readonly inventory: Inventory,
    private readonly drops: DropsService,
  ) {}

  async reserve(
    dropId: string,
    fanId: string,
    referrerId?: string,
    tier?: string,
  ): Promise<{ created: boolean; view: ReservationView }> {
    if (!isDropId(dropId)) throw DomainError.notFound('drop');
    let r = await this.inventory.reserve(dropId, fanId, referrerId, tier);
    if (!r.ok && r.code === 'NOT_FOUND' && (await this.drops.ensureMirrored(dropId))) {
      r = await this.inventory.reserve(dropId, fanId, referrerId, tier);
    }
    if (!r.ok) throw refusalError(r);
    return {
      created: r.value.created,
      view: { dropId, fanId, reservedAt: new Date(r.value.reservedAt).toISOString() },
    };
  }
}
