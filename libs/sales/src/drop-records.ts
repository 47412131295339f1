import { DropDefinition } from '@flashdrop/inventory';
import { DataSource, Repository } from 'typeorm';
import { DropEntity } from './entities/drop.entity';

/** What a brand may change in a drop's definition (the rest belongs to the drop's life). */
type EditableColumns = Omit<
  DropEntity,
  'id' | 'brandId' | 'paused' | 'cancelled' | 'createdAt' | 'version'
>;

/**
 * `sales.drops`: the durable definition of every drop, and its only door. Speaks in the
 * inventory's DropDefinition (times as epoch ms), so no caller sees a row.
 */
export class DropRecords {
  private readonly drops: Repository<DropEntity>;

  constructor(private readonly db: DataSource) {
    this.drops = db.getRepository(DropEntity);
  }

  /** A new drop; `def.createdAt` is also its first `updatedAt`. */
  async insert(def: DropDefinition): Promise<void> {
    await this.drops.insert({
      id: def.id,
      brandId: def.brandId,
      ...editableColumns(def, new Date(def.createdAt)),
      paused: def.paused,
      cancelled: def.cancelled,
      createdAt: new Date(def.createdAt),
      version: def.version,
    });
  }

  async find(dropId: string): Promise<DropDefinition | undefined> {
    const row = await this.drops.findOneBy({ id: dropId });
    return row ? toDefinition(row) : undefined;
  }

  /**
   * Runs `use` with the drop's definition read under a share lock on its row, held until `use`
   * returns: no edit (`edit` takes the row for update) can begin or commit meanwhile, so what
   * `use` sees is the outcome of every edit before it. Answers undefined when there is no such
   * drop. For repairs of the Redis mirror.
   */
  async whileHeld<T>(
    dropId: string,
    use: (current: DropDefinition) => Promise<T>,
  ): Promise<T | undefined> {
    return this.db.transaction(async (tx) => {
      const row = await tx.getRepository(DropEntity).findOne({
        where: { id: dropId },
        lock: { mode: 'pessimistic_read' },
      });
      return row ? use(toDefinition(row)) : undefined;
    });
  }

  /** One brand's drops (or every drop), newest first. */
  async list(brandId: string | undefined, limit: number): Promise<DropDefinition[]> {
    const rows = await this.drops.find({
      where: brandId === undefined ? {} : { brandId },
      order: { createdAt: 'DESC' },
      take: limit,
    });
    return rows.map(toDefinition);
  }

  /**
   * Edits a drop under its row lock: `edit` gets the current definition and answers the new one
   * (it may throw to refuse; nothing is written then) with the time of the change. The row's
   * version goes up by one. Concurrent edits of one drop run one after the other. Answers the
   * definition as committed (with its new version), or undefined when there is no such drop.
   */
  async edit(
    dropId: string,
    edit: (current: DropDefinition) => Promise<{ next: DropDefinition; at: number }>,
  ): Promise<DropDefinition | undefined> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(DropEntity);
      const row = await repo.findOne({
        where: { id: dropId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) return undefined;
      const { next, at } = await edit(toDefinition(row));
      const version = row.version + 1;
      await repo.update(dropId, { ...editableColumns(next, new Date(at)), version });
      return { ...next, version };
    });
  }

  /**
   * Puts back the editable fields of `definition` (the one the sale ran with) over an edit that
   * was committed at `editedVersion` but could not reach the sale before it locked, as a new
   * version. Does nothing when the row has moved on since. Answers the definition as stored.
   */
  async revert(
    definition: DropDefinition,
    editedVersion: number,
    at: Date,
  ): Promise<DropDefinition | undefined> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(DropEntity);
      const row = await repo.findOne({
        where: { id: definition.id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) return undefined;
      if (row.version !== editedVersion) return toDefinition(row);
      const columns = { ...editableColumns(definition, at), version: row.version + 1 };
      await repo.update(definition.id, columns);
      return toDefinition({ ...row, ...columns });
    });
  }

  async setPaused(dropId: string, paused: boolean, at: Date): Promise<void> {
    await this.drops.update(dropId, { paused, updatedAt: at });
  }

  async setCancelled(dropId: string, at: Date): Promise<void> {
    await this.drops.update(dropId, { cancelled: true, updatedAt: at });
  }
}

const dateOrNull = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));
const msOrUndefined = (d: Date | null) => (d === null ? undefined : d.getTime());

function editableColumns(d: DropDefinition, updatedAt: Date): EditableColumns {
  return {
    title: d.title,
    sku: d.sku,
    priceMinor: d.priceMinor,
    currency: d.currency,
    quantity: d.quantity,
    perUserLimit: d.perUserLimit,
    reservationRequired: d.reservationRequired,
    reservationOpensAt: dateOrNull(d.reservationOpensAt),
    reservationClosesAt: dateOrNull(d.reservationClosesAt),
    saleStartsAt: new Date(d.saleStartsAt),
    saleEndsAt: dateOrNull(d.saleEndsAt),
    holdSeconds: d.holdSeconds,
    allocation: d.allocation,
    audienceTier: d.audienceTier ?? null,
    shareDiscountMinor: d.shareDiscountMinor ?? 0,
    referralRewardMinor: d.referralRewardMinor ?? 0,
    stockBuckets: d.stockBuckets ?? 1,
    groupSize: d.groupSize ?? null,
    groupSeconds: d.groupSeconds ?? null,
    updatedAt,
  };
}

/** The durable row as the definition the inventory mirrors. */
function toDefinition(e: DropEntity): DropDefinition {
  return {
    id: e.id,
    brandId: e.brandId,
    title: e.title,
    sku: e.sku,
    priceMinor: e.priceMinor,
    currency: e.currency,
    quantity: e.quantity,
    perUserLimit: e.perUserLimit,
    reservationRequired: e.reservationRequired,
    reservationOpensAt: msOrUndefined(e.reservationOpensAt),
    reservationClosesAt: msOrUndefined(e.reservationClosesAt),
    saleStartsAt: e.saleStartsAt.getTime(),
    saleEndsAt: msOrUndefined(e.saleEndsAt),
    holdSeconds: e.holdSeconds,
    allocation: e.allocation,
    ...(e.audienceTier === null ? {} : { audienceTier: e.audienceTier }),
    shareDiscountMinor: e.shareDiscountMinor,
    referralRewardMinor: e.referralRewardMinor,
    stockBuckets: e.stockBuckets,
    ...(e.groupSize === null ? {} : { groupSize: e.groupSize }),
    ...(e.groupSeconds === null ? {} : { groupSeconds: e.groupSeconds }),
    paused: e.paused,
    cancelled: e.cancelled,
    createdAt: e.createdAt.getTime(),
    version: e.version,
  };
}
