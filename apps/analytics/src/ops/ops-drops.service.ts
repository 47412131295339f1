import { Injectable } from '@nestjs/common';
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
    const time = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
    return (await this.inventory.dropSummaries())
      .map((d) => ({
        id: d.id,
        title: d.title ?? null,
        brandId: d.brandId ?? null,
        quantity: d.quantity ?? null,
        createdAt: time(d.createdAt),
        saleStartsAt: time(d.saleStartsAt),
      }))
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
      .slice(0, LIST_LIMIT);
  }
}
