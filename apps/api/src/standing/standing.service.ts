import { Injectable } from '@nestjs/common';
import { DomainError, Order } from '@flashdrop/contracts';
import {
  allocationKindOf,
  FanStanding,
  Inventory,
  isDropId,
  toPublicOrder,
} from '@flashdrop/inventory';
import { DropsService } from '../drops/drops.service';

/** GET /v1/drops/:id/me (API.md "Fair launch"): where one fan stands, in one answer. */
export interface StandingView {
  readonly dropId: string;
  readonly fanId: string;
  readonly reserved: boolean;
  /** 1 for the next fan served; absent when not in line. */
  readonly waitlistPosition?: number;
  /** Draw drops, once drawn. */
  readonly drawResult?: 'won' | 'waitlisted' | 'not_entered';
  readonly orders: readonly Order[];
  /** Units in unpaid holds (or parked by a pause) that may still pass down the line. */
  readonly unitsPending: number;
  /** The earliest deadline among them. */
  readonly nextReleaseAt?: string;
}

const notFound = () => DomainError.notFound('drop');

/**
 * A fan's standing, read in one Lua step (libs/inventory standing.lua): reserved, place in
 * line, draw result, their orders of the drop, and what may still come down the line.
 */
@Injectable()
export class StandingService {
  constructor(
    private readonly inventory: Inventory,
    private readonly drops: DropsService,
  ) {}

  async read(dropId: string, fanId: string): Promise<StandingView> {
    if (!isDropId(dropId)) throw notFound();
    let standing = await this.inventory.standing(dropId, fanId);
    if (!standing && (await this.drops.ensureMirrored(dropId))) {
      standing = await this.inventory.standing(dropId, fanId);
    }
    if (!standing) throw notFound();
    return toStandingView(dropId, fanId, standing);
  }
}

export function toStandingView(dropId: string, fanId: string, s: FanStanding): StandingView {
  return {
    dropId,
    fanId,
    reserved: s.reserved,
    ...(s.waitlistPosition !== undefined && { waitlistPosition: s.waitlistPosition }),
    ...(s.allocation === 'draw' && s.drawnAt !== undefined && { drawResult: drawResultOf(s) }),
    orders: s.orders.map(toPublicOrder),
    unitsPending: s.unitsPending,
    ...(s.nextReleaseAt !== undefined && {
      nextReleaseAt: new Date(s.nextReleaseAt).toISOString(),
    }),
  };
}

/** Entrants are the reservations (frozen when reservations closed, before the draw). */
function drawResultOf(s: FanStanding): 'won' | 'waitlisted' | 'not_entered' {
  if (!s.reserved) return 'not_entered';
  return s.orders.some((o) => allocationKindOf(o.id) === 'draw') ? 'won' : 'waitlisted';
}
