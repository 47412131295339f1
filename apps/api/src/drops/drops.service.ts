import { Injectable } from '@nestjs/common';
import { DomainError, Principal } from '@flashdrop/contracts';
import {
  DropDefinition,
  DropState,
  DropView,
  Inventory,
  isDropId,
  newDropId,
  refusalError,
  toDropView,
} from '@flashdrop/inventory';
import { DropRecords } from '@flashdrop/sales';
import { checkDropRules, DropFields, patchTimes, withDefaults } from './drop-rules';
import { CreateDropDto, UpdateDropDto } from './drop.dto';

const notFound = () => DomainError.notFound('drop');

/**
 * Drops: the definition is written to PostgreSQL first (the durable truth), then mirrored into
 * Redis for the sale. Phases and locks are decided by the Lua scripts on Redis TIME, so every
 * API instance agrees on them.
 */
@Injectable()
export class DropsService {
  constructor(
    private readonly drops: DropRecords,
    private readonly inventory: Inventory,
  ) {}

  async create(brandId: string, dto: CreateDropDto): Promise<DropView> {
    const fields = withDefaults(dto);
    checkDropRules(fields);
    const definition: DropDefinition = {
      ...fields,
      id: newDropId(),
      brandId,
      paused: false,
      cancelled: false,
      createdAt: await this.inventory.now(),
    };
    await this.drops.insert(definition);
    await this.inventory.createDrop(definition);
    return this.view(definition.id);
  }

  /** Anyone may read a drop. */
  async view(dropId: string): Promise<DropView> {
    return toDropView(await this.state(dropId));
  }

  /** A brand's own drops, newest first; an operator's: every drop (newest 500). */
  async list(caller: Principal): Promise<DropView[]> {
    const definitions = await this.drops.list(
      caller.role === 'operator' ? undefined : caller.sub,
      500,
    );
    const states = await Promise.all(definitions.map((d) => this.stateOf(d)));
    return states.map(toDropView);
  }

  /**
   * Only before the drop locks (reservations open; the sale starts when none is needed). The
   * lock is checked by `mirror_drop` against Redis TIME while the row is locked, so an edit and
   * the opening of the window cannot cross.
   */
  async update(brandId: string, dropId: string, dto: UpdateDropDto): Promise<DropView> {
    await this.owned(brandId, dropId);
    const found = await this.drops.edit(dropId, async (current) => {
      const merged: DropFields = {
        ...current,
        ...stripUndefined({
          title: dto.title,
          sku: dto.sku,
          priceMinor: dto.priceMinor,
          currency: dto.currency,
          quantity: dto.quantity,
          perUserLimit: dto.perUserLimit,
          reservationRequired: dto.reservationRequired,
          holdSeconds: dto.holdSeconds,
          allocation: dto.allocation,
        }),
        ...patchTimes(dto),
      };
      checkDropRules(merged);
      const next = { ...current, ...merged };
      const updated = await this.inventory.updateDrop(next);
      if (!updated.ok) throw refusalError(updated);
      return { next, at: await this.inventory.now() };
    });
    if (!found) throw notFound();
    return this.view(dropId);
  }

  /** The owner brand or any operator. */
  async setPaused(caller: Principal, dropId: string, paused: boolean): Promise<DropView> {
    if (caller.role !== 'operator') await this.owned(caller.sub, dropId);
    else await this.state(dropId);
    const r = await this.inventory.setPaused(dropId, paused);
    if (!r.ok) throw refusalError(r);
    await this.drops.setPaused(dropId, paused, new Date());
    // Units released during the pause waited; the resume hands them down the line now (the
    // lifecycle scheduler does it too, for a resume whose caller died before this line).
    if (!paused) await this.inventory.handDownParked(dropId);
    return this.view(dropId);
  }

  /** Only before the sale starts (checked in `cancel_drop` on Redis TIME). */
  async cancel(brandId: string, dropId: string): Promise<DropView> {
    await this.owned(brandId, dropId);
    const r = await this.inventory.cancelDrop(dropId);
    if (!r.ok) throw refusalError(r);
    await this.drops.setCancelled(dropId, new Date());
    return this.view(dropId);
  }

  /** The drop if `brandId` owns it; another brand's drop is NOT_FOUND, as if absent. */
  async owned(brandId: string, dropId: string): Promise<DropState> {
    const state = await this.state(dropId);
    if (state.definition.brandId !== brandId) throw notFound();
    return state;
  }

  /** The live state from Redis; re-mirrored from PostgreSQL if Redis lacks the drop. */
  async state(dropId: string): Promise<DropState> {
    if (!isDropId(dropId)) throw notFound();
    const live = await this.inventory.viewDrop(dropId);
    if (live) return live;
    const stored = await this.drops.find(dropId);
    if (!stored) throw notFound();
    return this.stateOf(stored);
  }

  /** Makes sure Redis has the drop (routes other than the grab call this on NOT_FOUND). */
  async ensureMirrored(dropId: string): Promise<boolean> {
    try {
      await this.state(dropId);
      return true;
    } catch (e) {
      if (e instanceof DomainError && e.code === 'NOT_FOUND') return false;
      throw e;
    }
  }

  private async stateOf(stored: DropDefinition): Promise<DropState> {
    const live = await this.inventory.viewDrop(stored.id);
    if (live) return live;
    await this.inventory.restoreDrop(stored);
    const restored = await this.inventory.viewDrop(stored.id);
    if (!restored) throw new Error(`drop ${stored.id} could not be mirrored into Redis`);
    return restored;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
