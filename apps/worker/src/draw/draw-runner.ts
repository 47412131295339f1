import { Logger } from '@nestjs/common';
import {
  DRAW_ALGORITHM,
  entrantsDigest,
  seedCommitment,
  shuffle,
  sortEntrants,
} from '@flashdrop/fair';
import { DrawRecord, DrawSteps, Inventory } from '@flashdrop/inventory';
import { DrawRecords, PublishedDraw } from '@flashdrop/sales';
import { randomBytes } from 'node:crypto';

/** Entrants per page of the published list (GET /v1/drops/:id/draw/entrants). */
export const ENTRANTS_PAGE_SIZE = 1000;

/** Where a draw drop stands after a pass. */
export type DrawStage = 'waiting' | 'done' | 'not-a-draw';

export interface DrawRunnerOptions {
  /** Fans per Lua step. */
  readonly stepFans: number;
}

/**
 * Runs one draw drop's draw forward, as far as it can go now, in steps that are each safe to
 * repeat (API.md "Fair launch", DESIGN.md invariant 8: a committed draw has one result):
 *
 * 1. Once reservations have closed (Redis TIME): the entrants are the reservations, sorted
 *    (they can no longer change); a seed is drawn from crypto randomness and committed in Redis
 *    with the entrants' count and digest (commit_draw.lua: the first commitment wins for good).
 *    The commitment and the entrants are then published to PostgreSQL (one transaction).
 * 2. From saleStartsAt: the published entrants are shuffled with the committed seed; the
 *    losers are put in line (draw_waitlist.lua), then the winners get their holds
 *    (draw_winners.lua), each step a no-op if already done (the step cursors in Redis); then
 *    finish_draw.lua marks it drawn.
 * 3. The seed and winners are published to PostgreSQL.
 * A crash anywhere (kill -9 mid-step included) leaves either a step done or not done; the next
 * pass, in whichever worker holds the lease then, recomputes the same shuffle from the same
 * committed seed and published entrants and carries on from the cursors: the same winners,
 * once each.
 */
export class DrawRunner {
  private readonly logger = new Logger(DrawRunner.name);
  /** The last shuffle computed, per drop, by its entrants' digest (1.3 M fans: ~1 s to redo). */
  private readonly shuffles = new Map<string, { digest: string; order: string[] }>();

  constructor(
    private readonly inventory: Inventory,
    private readonly steps: DrawSteps,
    private readonly records: DrawRecords,
    private readonly options: DrawRunnerOptions,
  ) {}

  async advance(dropId: string): Promise<DrawStage> {
    const state = await this.inventory.viewDrop(dropId);
    if (!state) return 'waiting';
    const def = state.definition;
    if (def.allocation !== 'draw') return 'not-a-draw';
    let record = await this.steps.record(dropId);
    if (!record) {
      if (def.cancelled) return 'done';
      if (state.now < (def.reservationClosesAt ?? def.saleStartsAt)) return 'waiting';
      record = await this.commit(dropId);
      if (!record) return 'waiting';
    }
    let published = await this.records.find(dropId);
    if (!published) published = await this.publishCommitment(dropId, record);
    if (record.drawnAt === undefined) {
      if (def.cancelled) return 'done';
      if (state.now < def.saleStartsAt || def.paused) return 'waiting';
      if (!(await this.runSteps(dropId, record))) return 'waiting';
      record = (await this.steps.record(dropId))!;
    }
    if (published.drawnAt === undefined) await this.publishResult(dropId, record);
    this.shuffles.delete(dropId);
    return 'done';
  }

  /** Step 1: freeze the entrants, draw a seed, commit both (the first commitment stands). */
  private async commit(dropId: string): Promise<DrawRecord | undefined> {
    const entrants = await this.entrantsFromReservations(dropId);
    const digest = entrantsDigest(entrants);
    const seed = randomBytes(32).toString('hex');
    const r = await this.steps.commit(dropId, {
      seed,
      seedCommitment: seedCommitment(seed),
      entrants: entrants.length,
      entrantsDigest: digest,
    });
    if (!r.ok) {
      this.logger.warn({ dropId, code: r.code }, 'draw: commitment refused');
      return undefined;
    }
    const { record } = r.value;
    if (record.entrantsDigest !== digest) {
      throw new Error(`draw of ${dropId}: the reservations changed after the commitment`);
    }
    this.logger.log({ dropId, entrants: entrants.length }, 'draw: seed committed');
    await this.publishCommitment(dropId, record, entrants);
    return record;
  }

  private async publishCommitment(
    dropId: string,
    record: DrawRecord,
    entrants?: readonly string[],
  ): Promise<PublishedDraw> {
    const list = entrants ?? (await this.entrantsFromReservations(dropId));
    if (list.length !== record.entrants || entrantsDigest(list) !== record.entrantsDigest) {
      throw new Error(`draw of ${dropId}: the reservations no longer match the commitment`);
    }
    await this.records.publishCommitment(
      {
        dropId,
        algorithm: DRAW_ALGORITHM,
        seedCommitment: record.seedCommitment,
        entrants: record.entrants,
        entrantsDigest: record.entrantsDigest,
        pageSize: ENTRANTS_PAGE_SIZE,
        committedAt: record.committedAt,
      },
      list,
    );
    return (await this.records.find(dropId))!;
  }

  /**
   * Step 2: the line, then the holds, then drawn. False while the sale is paused. Each step
   * starts at the cursor the previous one answered (cursors only grow), so a step never lands
   * beyond the cursor, even with another runner at work on the same draw.
   */
  private async runSteps(dropId: string, record: DrawRecord): Promise<boolean> {
    const order = await this.order(dropId, record);
    const n = this.options.stepFans;
    const { winners, entrants } = record;
    const started = Date.now();
    for (let next = winners + record.waitApplied; next < entrants;) {
      const r = await this.steps.placeLosers(dropId, next, order.slice(next, next + n));
      if (!r.ok && r.code === 'DRAWN') return true;
      if (!r.ok) throw new Error(`draw of ${dropId}: waitlist step at ${next}: ${r.code}`);
      next = winners + r.value;
    }
    for (let next = record.winApplied; next < winners;) {
      const r = await this.steps.placeWinners(dropId, next, order.slice(next, next + n));
      if (!r.ok && r.code === 'PAUSED') return false;
      if (!r.ok && r.code === 'DRAWN') return true;
      if (!r.ok) throw new Error(`draw of ${dropId}: winners step at ${next}: ${r.code}`);
      next = r.value;
    }
    const finished = await this.steps.finish(dropId);
    if (!finished.ok) throw new Error(`draw of ${dropId}: finish: ${finished.code}`);
    if (finished.value.created) {
      this.logger.log({ dropId, entrants, winners, stepsMs: Date.now() - started }, 'draw: done');
    }
    return true;
  }

  /** Step 3: the seed and the winners, in rank order, made public. */
  private async publishResult(dropId: string, record: DrawRecord): Promise<void> {
    const seed = await this.steps.secretSeed(dropId);
    if (!seed) throw new Error(`draw of ${dropId}: drawn without a seed`);
    const order = await this.order(dropId, record);
    await this.records.publishResult(dropId, seed, order.slice(0, record.winners), record.drawnAt!);
  }

  /** The shuffle of the published entrants with the committed seed. */
  private async order(dropId: string, record: DrawRecord): Promise<string[]> {
    const cached = this.shuffles.get(dropId);
    if (cached?.digest === record.entrantsDigest) return cached.order;
    const entrants = await this.records.allEntrants(dropId);
    if (entrants.length !== record.entrants || entrantsDigest(entrants) !== record.entrantsDigest) {
      throw new Error(`draw of ${dropId}: the published entrants do not match the commitment`);
    }
    const seed = await this.steps.secretSeed(dropId);
    if (!seed) throw new Error(`draw of ${dropId}: committed without a seed`);
    const order = shuffle(entrants, seed);
    this.shuffles.set(dropId, { digest: record.entrantsDigest, order });
    return order;
  }

  private async entrantsFromReservations(dropId: string): Promise<string[]> {
    const fans: string[] = [];
    for await (const batch of this.steps.reservedFans(dropId)) fans.push(...batch);
    return sortEntrants(fans);
  }
}
