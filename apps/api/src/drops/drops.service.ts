import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DomainError, Principal } from '@flashdrop/contracts';
import {
  DropDefinition,
  DropState,
  Inventory,
  isDropId,
  newDropId,
  refusalError,
} from '@flashdrop/inventory';
import { DataSource, Repository } from 'typeorm';
import { checkDropRules, DropFields, patchTimes, withDefaults } from './drop-rules';
import { CreateDropDto, UpdateDropDto } from './drop.dto';
import { DropEntity } from './drop.entity';
import { DropView, toDefinition, toDropView } from './drop.view';

const notFound = () => new DomainError('NOT_FOUND', 'no such drop');

/**
 * Drops: the definition is written to PostgreSQL first (the durable truth), then mirrored into
 * Redis for the sale. Phases and locks are decided by the Lua scripts on Redis TIME, so every
 * API instance agrees on them.
 */
@Injectable()
export class DropsService {
  constructor(
    @InjectRepository(DropEntity) private readonly drops: Repository<DropEntity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly inventory: Inventory,
  ) {}

  async create(brandId: string, dto: CreateDropDto): Promise<DropView> {
    const fields = withDefaults(dto);
    checkDropRules(fields);
    const now = await this.inventory.now();
    const entity = this.drops.create({
      id: newDropId(),
      brandId,
      ...toColumns(fields),
      paused: false,
      cancelled: false,
      createdAt: new Date(now),
      updatedAt: new Date(now),
    });
    await this.drops.insert(entity);
    await this.inventory.createDrop(toDefinition(entity));
    return this.view(entity.id);
  }

  /** Anyone may read a drop. */
  async view(dropId: string): Promise<DropView> {
    return toDropView(await this.state(dropId));
  }

  /** A brand's own drops, newest first; an operator's: every drop (newest 500). */
  async list(caller: Principal): Promise<DropView[]> {
    const rows = await this.drops.find({
      where: caller.role === 'operator' ? {} : { brandId: caller.sub },
      order: { createdAt: 'DESC' },
      take: 500,
    });
    const states = await Promise.all(rows.map((r) => this.stateOf(r)));
    return states.map(toDropView);
  }

  /**
   * Only before the drop locks (reservations open; the sale starts when none is needed). The
   * lock is checked by `mirror_drop` against Redis TIME while the row is locked, so an edit and
   * the opening of the window cannot cross.
   */
  async update(brandId: string, dropId: string, dto: UpdateDropDto): Promise<DropView> {
    await this.owned(brandId, dropId);
    await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(DropEntity);
      const row = await repo.findOne({
        where: { id: dropId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw notFound();
      const current = toDefinition(row);
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
        }),
        ...patchTimes(dto),
      };
      checkDropRules(merged);
      const updated = await this.inventory.updateDrop({ ...current, ...merged });
      if (!updated.ok) throw refusalError(updated);
      await repo.update(dropId, {
        ...toColumns(merged),
        updatedAt: new Date(await this.inventory.now()),
      });
    });
    return this.view(dropId);
  }

  /** The owner brand or any operator. */
  async setPaused(caller: Principal, dropId: string, paused: boolean): Promise<DropView> {
    if (caller.role !== 'operator') await this.owned(caller.sub, dropId);
    else await this.state(dropId);
    const r = await this.inventory.setPaused(dropId, paused);
    if (!r.ok) throw refusalError(r);
    await this.drops.update(dropId, { paused, updatedAt: new Date() });
    return this.view(dropId);
  }

  /** Only before the sale starts (checked in `cancel_drop` on Redis TIME). */
  async cancel(brandId: string, dropId: string): Promise<DropView> {
    await this.owned(brandId, dropId);
    const r = await this.inventory.cancelDrop(dropId);
    if (!r.ok) throw refusalError(r);
    await this.drops.update(dropId, { cancelled: true, updatedAt: new Date() });
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
    const row = await this.drops.findOneBy({ id: dropId });
    if (!row) throw notFound();
    return this.stateOf(row);
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

  private async stateOf(row: DropEntity): Promise<DropState> {
    const live = await this.inventory.viewDrop(row.id);
    if (live) return live;
    await this.inventory.restoreDrop(toDefinition(row));
    const restored = await this.inventory.viewDrop(row.id);
    if (!restored) throw new Error(`drop ${row.id} could not be mirrored into Redis`);
    return restored;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const dateOrNull = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));

function toColumns(f: DropFields | DropDefinition) {
  return {
    title: f.title,
    sku: f.sku,
    priceMinor: f.priceMinor,
    currency: f.currency,
    quantity: f.quantity,
    perUserLimit: f.perUserLimit,
    reservationRequired: f.reservationRequired,
    reservationOpensAt: dateOrNull(f.reservationOpensAt),
    reservationClosesAt: dateOrNull(f.reservationClosesAt),
    saleStartsAt: new Date(f.saleStartsAt),
    saleEndsAt: dateOrNull(f.saleEndsAt),
    holdSeconds: f.holdSeconds,
  };
}
