import { Injectable } from '@nestjs/common';
import { DROPS_INDEX_KEY, dropKeys } from '@flashdrop/inventory';
import { RedisConnection } from '@flashdrop/persistence';

export interface OpsDropSummary {
  readonly id: string;
  readonly title: string | null;
  readonly brandId: string | null;
  readonly quantity: number | null;
  readonly createdAt: string | null;
  readonly saleStartsAt: string | null;
}

/** How many drops the dashboard's picker lists (newest first). */
const LIST_LIMIT = 200;

/** The drops an operator can pick on the dashboard, read from the sale's Redis mirror. */
@Injectable()
export class OpsDrops {
  constructor(private readonly redis: RedisConnection) {}

  async list(): Promise<OpsDropSummary[]> {
    const ids = await this.redis.client.smembers(DROPS_INDEX_KEY);
    const pipeline = this.redis.client.pipeline();
    for (const id of ids) {
      pipeline.hmget(
        dropKeys(id).drop,
        'title',
        'brandId',
        'quantity',
        'createdAt',
        'saleStartsAt',
      );
    }
    const rows = (await pipeline.exec()) ?? [];
    const time = (ms: string | null) => (ms ? new Date(Number(ms)).toISOString() : null);
    return ids
      .map((id, i) => {
        const [title, brandId, quantity, createdAt, saleStartsAt] = (rows[i]?.[1] ?? []) as (
          string | null
        )[];
        return {
          id,
          title: title ?? null,
          brandId: brandId ?? null,
          quantity: quantity ? Number(quantity) : null,
          createdAt: time(createdAt ?? null),
          saleStartsAt: time(saleStartsAt ?? null),
        };
      })
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
      .slice(0, LIST_LIMIT);
  }
}
