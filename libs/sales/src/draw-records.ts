import { DataSource } from 'typeorm';

/** A draw as published (GET /v1/drops/:id/draw): the seed and winners only once it is done. */
export interface PublishedDraw {
  readonly dropId: string;
  readonly algorithm: string;
  readonly seedCommitment: string;
  readonly entrants: number;
  readonly entrantsDigest: string;
  /** Entrants per page of `sales.draw_entrants` (the entrants route's pages). */
  readonly pageSize: number;
  readonly committedAt: number;
  readonly seed?: string;
  readonly winners?: readonly string[];
  readonly drawnAt?: number;
}

/** How many pages one INSERT carries when a draw's entrants are published. */
const PAGES_PER_INSERT = 20;

interface DrawRow {
  drop_id: string;
  algorithm: string;
  seed_commitment: string;
  entrants: number;
  entrants_digest: string;
  page_size: number;
  committed_at: Date;
  seed: string | null;
  winners: string[] | null;
  drawn_at: Date | null;
}

/**
 * `sales.draws` and `sales.draw_entrants`: the public record of every draw, and its only door.
 * The worker's draw writes it (the commitment with the frozen entrants, then the result); the
 * API's draw routes read it. The secret seed is never written here before the draw is done.
 */
export class DrawRecords {
  constructor(private readonly db: DataSource) {}

  /**
   * The commitment and the frozen entrants (sorted), in pages, in one transaction: all of it
   * or nothing, so a row that exists is complete. Idempotent: a draw already published is left
   * as it is (answers false).
   */
  async publishCommitment(
    draw: Omit<PublishedDraw, 'seed' | 'winners' | 'drawnAt'>,
    entrants: readonly string[],
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const inserted = (await tx.query(
        `INSERT INTO sales.draws (drop_id, algorithm, seed_commitment, entrants, entrants_digest,
           page_size, committed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (drop_id) DO NOTHING
         RETURNING drop_id`,
        [
          draw.dropId,
          draw.algorithm,
          draw.seedCommitment,
          draw.entrants,
          draw.entrantsDigest,
          draw.pageSize,
          new Date(draw.committedAt),
        ],
      )) as unknown[];
      if (inserted.length === 0) return false;
      const pages: string[][] = [];
      for (let i = 0; i < entrants.length; i += draw.pageSize) {
        pages.push(entrants.slice(i, i + draw.pageSize));
      }
      for (let first = 0; first < pages.length; first += PAGES_PER_INSERT) {
        const chunk = pages.slice(first, first + PAGES_PER_INSERT);
        const values = chunk.map((_, i) => `($1, $${2 * i + 2}, $${2 * i + 3})`).join(', ');
        await tx.query(
          `INSERT INTO sales.draw_entrants (drop_id, page, fan_ids) VALUES ${values}`,
          [draw.dropId, ...chunk.flatMap((ids, i) => [first + i, ids])],
        );
      }
      return true;
    });
  }

  /** The result, once: the seed, the winners in rank order, when it was drawn. */
  async publishResult(
    dropId: string,
    seed: string,
    winners: readonly string[],
    drawnAt: number,
  ): Promise<void> {
    await this.db.query(
      `UPDATE sales.draws SET seed = $2, winners = $3, drawn_at = $4
       WHERE drop_id = $1 AND seed IS NULL`,
      [dropId, seed, winners, new Date(drawnAt)],
    );
  }

  async find(dropId: string): Promise<PublishedDraw | undefined> {
    const rows = (await this.db.query(`SELECT * FROM sales.draws WHERE drop_id = $1`, [
      dropId,
    ])) as DrawRow[];
    const r = rows[0];
    if (!r) return undefined;
    return {
      dropId: r.drop_id,
      algorithm: r.algorithm,
      seedCommitment: r.seed_commitment,
      entrants: r.entrants,
      entrantsDigest: r.entrants_digest,
      pageSize: r.page_size,
      committedAt: r.committed_at.getTime(),
      seed: r.seed ?? undefined,
      winners: r.winners ?? undefined,
      drawnAt: r.drawn_at?.getTime(),
    };
  }

  /** One page of the frozen entrants (undefined past the last). */
  async entrantsPage(dropId: string, page: number): Promise<string[] | undefined> {
    const rows = (await this.db.query(
      `SELECT fan_ids FROM sales.draw_entrants WHERE drop_id = $1 AND page = $2`,
      [dropId, page],
    )) as { fan_ids: string[] }[];
    return rows[0]?.fan_ids;
  }

  /** Every entrant, in order (the draw's own input: what was published, nothing else). */
  async allEntrants(dropId: string): Promise<string[]> {
    const rows = (await this.db.query(
      `SELECT fan_ids FROM sales.draw_entrants WHERE drop_id = $1 ORDER BY page`,
      [dropId],
    )) as { fan_ids: string[] }[];
    return rows.flatMap((r) => r.fan_ids);
  }
}
