import { Injectable } from '@nestjs/common';
import { MAX_TIME_MS } from '@flashdrop/contracts';
import { Inventory } from '@flashdrop/inventory';

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
  constructor(private readonly inventory: Inventory) {}

  async list(): Promise<OpsDropSummary[]> {
    // A mirror with a time no Date can print (NaN, 1e20) shows it as unknown: one bad record
    // never breaks the picker (the API repairs the mirror from PostgreSQL when it reads it).
    const time = (ms: number | undefined) =>
      ms !== undefined && Number.isInteger(ms) && ms >= 0 && ms <= MAX_TIME_MS
        ? new Date(ms).toISOString()
        : null;
    const count = (n: number | undefined) => (Number.isSafeInteger(n) ? n! : null);
    return (await this.inventory.dropSummaries())
      .map((d) => ({
        id: d.id,
        title: d.title ?? null,
        brandId: d.brandId ?? null,
        quantity: count(d.quantity),
        createdAt: time(d.createdAt),
        saleStartsAt: time(d.saleStartsAt),
      }))
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
      .slice(0, LIST_LIMIT);
  }
}
