import { Injectable, Logger } from '@nestjs/common';
import { DomainError, Principal } from '@flashdrop/contracts';
import {
  BadRecordError,
  DropDefinition,
  DropState,
  DropView,
  Inventory,
  isDropId,
  newDropId,
  refusalError,
  toDropView,
} from '@flashdrop/inventory';
import { AllocationRecords, DrawRecords, DropRecords, OrderRecords } from '@flashdrop/sales';
import { checkDropRules, DropFields, patchTimes, withDefaults } from './drop-rules';
import { CreateDropDto, UpdateDropDto } from './drop.dto';
import { planRebuild } from './lost-drop';

const notFound = () => DomainError.notFound('drop');

/**
 * Drops: the definition is written to PostgreSQL first (the durable truth), then mirrored into
 * Redis for the sale. Phases and locks are decided by the Lua scripts on Redis TIME, so every
 * API instance agrees on them. A mirror that is missing, fails its check, or may have missed an
 * edit is repaired from PostgreSQL by whoever reads it next (`state`, `list`).
 */
@Injectable()
export class DropsService {
  private readonly logger = new Logger(DropsService.name);

  constructor(
    private readonly drops: DropRecords,
    private readonly orders: OrderRecords,
    private readonly allocations: AllocationRecords,
    private readonly draws: DrawRecords,
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
      version: 1,
    };
    await this.drops.insert(definition);
    await this.inventory.createDrop(definition);
    return this.view(definition.id);
  }

  /** Anyone may read a drop. */
  async view(dropId: string): Promise<DropView> {
    return toDropView(await this.state(dropId));
  }

  /**
   * A brand's own drops, newest first; an operator's: every drop (newest 500). One drop whose
   * view cannot be built (even after a repair from PostgreSQL) is left out with a log line: it
   * never turns the whole list into a 500.
   */
  async list(caller: Principal): Promise<DropView[]> {
    const definitions = await this.drops.list(
      caller.role === 'operator' ? undefined : caller.sub,
      500,
    );
    const views = await Promise.all(
      definitions.map(async (d) => {
        try {
          return toDropView(await this.stateOf(d));
        } catch (error) {
          this.logger.error({ dropId: d.id, err: error }, 'drop left out of a list');
          return undefined;
        }
      }),
    );
    return views.filter((v): v is DropView => v !== undefined);
  }

  /**
   * Only before the drop locks (reservations open; the sale starts when none is needed).
   * PostgreSQL first, then Redis: under the row's lock, `begin_edit` checks the lock on Redis
   * TIME and marks the edit begun (writing nothing else), the row is updated with a new version
   * and committed, and only then is the mirror synced. A failed commit leaves Redis as it was
   * (the mark is cleared by the next read); a sync that fails after the commit is done by the
   * next read (`state`). Should the drop lock between the commit and the sync, the sync refuses
   * and the definition the sale runs with is written back: 409 DROP_LOCKED.
   */
  async update(brandId: string, dropId: string, dto: UpdateDropDto): Promise<DropView> {
    await this.owned(brandId, dropId);
    const committed = await this.drops.edit(dropId, async (current) => {
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
          audienceTier: dto.audienceTier,
          shareDiscountMinor: dto.shareDiscountMinor,
          referralRewardMinor: dto.referralRewardMinor,
          groupSize: dto.groupSize,
          groupSeconds: dto.groupSeconds,
        }),
        ...patchTimes(dto),
      };
      checkDropRules(merged);
      const begun = await this.inventory.beginEdit(dropId, current.version + 1);
      if (!begun.ok) throw refusalError(begun);
      return { next: { ...current, ...merged }, at: await this.inventory.now() };
    });
    if (!committed) throw notFound();
    const synced = await this.inventory.syncDrop(committed);
    if (synced.status === 'locked') {
      await this.undo(committed, synced.running);
      throw new DomainError('DROP_LOCKED', 'the drop locked before the edit could reach it');
    }
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

  /**
   * The live state from Redis. Repaired from PostgreSQL first when Redis lacks the drop
   * (rebuilt from its stored orders), when its mirror fails its check, or when an edit was
   * begun and may not have reached it.
   */
  async state(dropId: string): Promise<DropState> {
    if (!isDropId(dropId)) throw notFound();
    const { live, repair } = await this.readMirror(dropId);
    if (live && !repair) return live;
    const repaired = await this.repair(dropId);
    if (repaired) return repaired;
    // PostgreSQL has no such drop: only what Redis holds, if that can be shown.
    if (live) return live;
    throw notFound();
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

  /**
   * The live state of a drop PostgreSQL holds as `stored` (a list's row), the mirror repaired if
   * it needs it or is behind `stored`'s version. Pause and cancel are decided in Redis (on its
   * clock) and then written here: a flag that did not reach PostgreSQL is copied now.
   */
  private async stateOf(stored: DropDefinition): Promise<DropState> {
    const { live, repair } = await this.readMirror(stored.id);
    if (!live || repair || live.definition.version < stored.version) {
      const repaired = await this.repair(stored.id);
      if (!repaired) throw notFound();
      return repaired;
    }
    const { paused, cancelled } = live.definition;
    if (paused !== stored.paused || cancelled !== stored.cancelled) {
      this.logger.warn({ dropId: stored.id }, 'pause or cancel missing from PostgreSQL: copied');
      if (paused !== stored.paused) await this.drops.setPaused(stored.id, paused, new Date());
      if (cancelled && !stored.cancelled) await this.drops.setCancelled(stored.id, new Date());
    }
    return live;
  }

  /**
   * Makes Redis hold what PostgreSQL holds, read under the row's share lock so that no edit is
   * under way (its begun mark, if any, is settled by this sync): synced into the mirror, the
   * drop rebuilt from its stored orders when Redis lost it, or, when an edit reached PostgreSQL
   * but the drop locked before it reached Redis, undone. Answers undefined when PostgreSQL has
   * no such drop.
   */
  private async repair(dropId: string): Promise<DropState | undefined> {
    const held = await this.drops.whileHeld(dropId, async (current) => ({
      current,
      synced: await this.inventory.syncDrop(current, true),
    }));
    if (!held) return undefined;
    const { current, synced } = held;
    if (synced.status === 'missing') {
      await this.rebuild(current);
    } else if (synced.status === 'locked') {
      await this.undo(current, synced.running);
    }
    const repaired = await this.inventory.viewDrop(dropId);
    if (!repaired) throw new Error(`drop ${dropId} could not be mirrored into Redis`);
    return repaired;
  }

  /**
   * A drop Redis lost, rebuilt from what PostgreSQL holds: its orders, its allocation log's
   * head, its published draw (planRebuild says what comes back and what is lost). A drop that
   * cannot come back whole enough for its fans (planRebuild `pause`) comes back paused, in
   * Redis and in PostgreSQL, with an error line: an operator resumes or cancels it.
   */
  private async rebuild(current: DropDefinition): Promise<void> {
    const dropId = current.id;
    const [orders, head, draw, now] = await Promise.all([
      this.orders.listOfDrop(dropId),
      this.allocations.head(dropId),
      this.draws.find(dropId),
      this.inventory.now(),
    ]);
    const entrants = draw ? await this.draws.allEntrants(dropId) : undefined;
    const { standing, pause } = planRebuild({ definition: current, orders, draw, entrants, now });
    const def = pause ? { ...current, paused: true } : current;
    await this.inventory.rebuildDrop(def, orders, head?.seq ?? 0, standing);
    if (pause && !current.paused) await this.drops.setPaused(dropId, true, new Date(now));
    const line = { dropId, orders: orders.length, lost: standing.lost, paused: pause };
    if (pause) this.logger.error(line, 'drop missing from Redis: rebuilt paused, see `lost`');
    else this.logger.warn(line, 'drop missing from Redis: rebuilt from PostgreSQL');
  }

  /**
   * The mirror as Redis holds it, and whether it must be repaired from PostgreSQL: absent, not
   * valid (BadRecordError, logged), or with an edit begun that may not have reached it.
   */
  private async readMirror(dropId: string): Promise<{ live?: DropState; repair: boolean }> {
    try {
      const live = await this.inventory.viewDrop(dropId);
      return { live, repair: live === undefined || live.pendingEdit !== undefined };
    } catch (error) {
      if (!(error instanceof BadRecordError)) throw error;
      this.logger.error({ dropId, err: error }, 'drop mirror not valid: repaired from PostgreSQL');
      return { repair: true };
    }
  }

  /**
   * An edit committed to PostgreSQL as `edited` reached Redis only after the drop locked (fans
   * may have reserved or grabbed under the definition the sale runs with, `running`): that one
   * is written back to PostgreSQL as a new version and mirrored, and the edit did not happen.
   */
  private async undo(edited: DropDefinition, running: DropDefinition): Promise<void> {
    const reverted = await this.drops.revert(running, edited.version, new Date());
    if (reverted) await this.inventory.syncDrop(reverted);
    this.logger.warn({ dropId: edited.id }, 'edit reached the drop after it locked: undone');
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
