import { Injectable } from '@nestjs/common';
import { DomainError } from '@flashdrop/contracts';
import { DRAW_ALGORITHM } from '@flashdrop/fair';
import { DrawRecords } from '@flashdrop/sales';
import { DropsService } from '../drops/drops.service';

/** GET /v1/drops/:id/draw (API.md "Fair launch"). */
export interface DrawView {
  readonly dropId: string;
  /** The procedure docs/fair-launch.md spells out. */
  readonly algorithm: string;
  /** Published when reservations close: SHA-256 of the secret seed. */
  readonly seedCommitment?: string;
  /** Fans: the frozen entrants once committed, the reservations so far before. */
  readonly entrants: number;
  readonly entrantsDigest?: string;
  readonly seed?: string;
  /** In rank order. */
  readonly winners?: readonly string[];
  readonly drawnAt?: string;
}

export interface EntrantsPage {
  readonly items: readonly string[];
  readonly nextCursor?: string;
}

/**
 * A draw's public record (libs/sales DrawRecords, written by the worker's draw): what anyone
 * needs to recompute it. Nothing here can reveal the seed early: it is written to PostgreSQL
 * only once the draw is done (it lives in Redis, secret, until then).
 */
@Injectable()
export class DrawsService {
  constructor(
    private readonly drops: DropsService,
    private readonly draws: DrawRecords,
  ) {}

  async view(dropId: string): Promise<DrawView> {
    const state = await this.drawDrop(dropId);
    const draw = await this.draws.find(dropId);
    if (!draw) {
      return { dropId, algorithm: DRAW_ALGORITHM, entrants: state.reservations };
    }
    return {
      dropId,
      algorithm: draw.algorithm,
      seedCommitment: draw.seedCommitment,
      entrants: draw.entrants,
      entrantsDigest: draw.entrantsDigest,
      ...(draw.drawnAt !== undefined && {
        seed: draw.seed,
        winners: draw.winners,
        drawnAt: new Date(draw.drawnAt).toISOString(),
      }),
    };
  }

  /** The frozen entrants, a page at a time; none before the commitment. */
  async entrants(dropId: string, cursor: string | undefined): Promise<EntrantsPage> {
    await this.drawDrop(dropId);
    const draw = await this.draws.find(dropId);
    if (!draw) return { items: [] };
    const page = cursor === undefined ? 0 : Number(cursor);
    const pages = Math.ceil(draw.entrants / draw.pageSize);
    if (page >= pages) return { items: [] };
    const items = (await this.draws.entrantsPage(dropId, page)) ?? [];
    return page + 1 < pages ? { items, nextCursor: String(page + 1) } : { items };
  }

  /** A draw drop's state; a first-come drop has no draw (404, as if absent). */
  private async drawDrop(dropId: string) {
    const state = await this.drops.state(dropId);
    if (state.definition.allocation !== 'draw') {
      throw new DomainError('NOT_FOUND', 'this drop has no draw: it is first-come');
    }
    return state;
  }
}
