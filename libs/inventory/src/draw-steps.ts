import { defineLuaScripts, LuaArg, LuaCall } from '@flashdrop/lua';
import type { RedisClient } from '@flashdrop/persistence';
import { dropKeys } from './keys';
import { INVENTORY_SCRIPTS, INVENTORY_SOURCES, ScriptName } from './lua-scripts';
import { saleKeys } from './inventory';

/** A draw as Redis keeps it (`{d:ID}:draw`), without its secret seed; times are epoch ms. */
export interface DrawRecord {
  readonly seedCommitment: string;
  readonly entrants: number;
  readonly entrantsDigest: string;
  /** min(quantity, entrants): the shuffle's first `winners` ranks win. */
  readonly winners: number;
  readonly committedAt: number;
  /** Losers placed in line so far (ranks winners .. winners + waitApplied - 1). */
  readonly waitApplied: number;
  /** Winners given their hold so far (ranks 0 .. winApplied - 1). */
  readonly winApplied: number;
  readonly drawnAt?: number;
}

export interface DrawCommitment {
  readonly seed: string;
  readonly seedCommitment: string;
  readonly entrants: number;
  readonly entrantsDigest: string;
}

/** Why a draw script did nothing (each is the script's own answer, see its header). */
export type DrawRefusal =
  | 'NOT_FOUND'
  | 'NOT_A_DRAW'
  | 'CANCELLED'
  | 'NOT_CLOSED'
  | 'NOT_COMMITTED'
  | 'GAP'
  | 'DRAWN'
  | 'LINE_NOT_BUILT'
  | 'NO_STOCK'
  | 'BAD_RECORD'
  | 'INCOMPLETE';

export type DrawOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: DrawRefusal | 'PAUSED' };

/**
 * The typed face of a draw's scripts (commit_draw, draw_waitlist, draw_winners, finish_draw):
 * for the worker's draw singleton, which runs a draw in idempotent steps, and for reading a
 * draw's state. The seed is read only through `secretSeed`, by the draw itself.
 */
export class DrawSteps {
  private readonly scripts: Record<ScriptName, LuaCall>;

  constructor(readonly redis: RedisClient) {
    this.scripts = defineLuaScripts(redis, INVENTORY_SCRIPTS.prefix, INVENTORY_SOURCES);
  }

  /** The draw of a drop, or undefined before its seed is committed. */
  async record(dropId: string): Promise<DrawRecord | undefined> {
    const h = await this.redis.hgetall(dropKeys(dropId).draw);
    if (!h.seedCommitment) return undefined;
    return {
      seedCommitment: h.seedCommitment,
      entrants: Number(h.entrants),
      entrantsDigest: h.entrantsDigest,
      winners: Number(h.winners),
      committedAt: Number(h.committedAt),
      waitApplied: Number(h.waitApplied),
      winApplied: Number(h.winApplied),
      drawnAt: h.drawnAt ? Number(h.drawnAt) : undefined,
    };
  }

  /** The committed seed: secret until the draw is done, so only the draw itself reads it. */
  async secretSeed(dropId: string): Promise<string | undefined> {
    return (await this.redis.hget(dropKeys(dropId).draw, 'seed')) ?? undefined;
  }

  /**
   * The reservations (the draw's entrants once reservations have closed), in batches, through
   * HSCAN so a 1.3 M-field hash never blocks Redis in one command. A field may come twice
   * (HSCAN's guarantee is "at least once"): the caller dedupes.
   */
  async *reservedFans(dropId: string, count = 10_000): AsyncGenerator<string[]> {
    const key = dropKeys(dropId).reservations;
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', count);
      cursor = next;
      const fans: string[] = [];
      for (let i = 0; i < flat.length; i += 2) fans.push(flat[i]);
      if (fans.length > 0) yield fans;
    } while (cursor !== '0');
  }

  /** commit_draw.lua: the first commitment is final; a later call answers the stored one. */
  async commit(
    dropId: string,
    c: DrawCommitment,
  ): Promise<DrawOutcome<{ created: boolean; record: DrawRecord }>> {
    const k = dropKeys(dropId);
    const r = await this.run(
      'commit_draw',
      [k.drop, k.draw, k.events],
      [c.seed, c.seedCommitment, c.entrants, c.entrantsDigest],
    );
    if (r[0] === 'ERR') return { ok: false, code: r[1] as DrawRefusal };
    const record = await this.record(dropId);
    if (!record) throw new Error(`draw of ${dropId}: committed but not readable`);
    return { ok: true, value: { created: r[0] === 'CREATED', record } };
  }

  /** draw_waitlist.lua: losers from `fromRank` on, in shuffled order; answers waitApplied. */
  async placeLosers(
    dropId: string,
    fromRank: number,
    fans: readonly string[],
  ): Promise<DrawOutcome<number>> {
    const k = dropKeys(dropId);
    return step(
      await this.run('draw_waitlist', [k.draw, k.waitlist, k.events, k.drop], [fromRank, ...fans]),
    );
  }

  /** draw_winners.lua: winners from `fromRank` on, in rank order; answers winApplied. */
  async placeWinners(
    dropId: string,
    fromRank: number,
    fans: readonly string[],
  ): Promise<DrawOutcome<number>> {
    const k = dropKeys(dropId);
    return step(await this.run('draw_winners', [...saleKeys(dropId), k.draw], [fromRank, ...fans]));
  }

  /** finish_draw.lua: drawnAt (the seed is public from then on); idempotent. */
  async finish(dropId: string): Promise<DrawOutcome<{ drawnAt: number; created: boolean }>> {
    const k = dropKeys(dropId);
    const r = await this.run('finish_draw', [k.drop, k.draw, k.events], []);
    if (r[0] === 'ERR') return { ok: false, code: r[1] as DrawRefusal };
    return { ok: true, value: { drawnAt: Number(r[1]), created: r[0] === 'CREATED' } };
  }

  private async run(name: ScriptName, keys: LuaArg[], args: LuaArg[]): Promise<unknown[]> {
    const reply = await this.scripts[name](...keys, ...args);
    if (!Array.isArray(reply)) throw new Error(`${name}: unexpected reply ${String(reply)}`);
    return reply;
  }
}

function step(r: unknown[]): DrawOutcome<number> {
  if (r[0] === 'OK') return { ok: true, value: Number(r[1]) };
  if (r[0] === 'PAUSED') return { ok: false, code: 'PAUSED' };
  return { ok: false, code: r[1] as DrawRefusal };
}
