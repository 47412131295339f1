import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { WebhookEventType } from './webhook-types';

/** A webhook as its brand sees it (never with its secret). */
export interface Endpoint {
  readonly id: string;
  readonly brandId: string;
  readonly url: string;
  readonly events: WebhookEventType[];
  readonly createdAt: Date;
}

interface EndpointRow {
  id: string;
  brand_id: string;
  url: string;
  events: WebhookEventType[];
  created_at: Date;
}

const fromRow = (r: EndpointRow): Endpoint => ({
  id: r.id,
  brandId: r.brand_id,
  url: r.url,
  events: r.events,
  createdAt: r.created_at,
});

/**
 * `webhooks.endpoints`: the webhooks brands register, and the table's only door. Every read
 * and delete is scoped to the brand: another brand's webhook is as absent as a missing one.
 */
export class EndpointRecords {
  constructor(private readonly db: DataSource) {}

  static newId(): string {
    return `wh_${randomBytes(8).toString('hex')}`;
  }

  async insert(e: {
    id: string;
    brandId: string;
    url: string;
    events: readonly WebhookEventType[];
    secretSealed: string;
  }): Promise<Endpoint> {
    const rows = (await this.db.query(
      `INSERT INTO webhooks.endpoints (id, brand_id, url, events, secret_sealed)
       VALUES ($1, $2, $3, $4, $5) RETURNING id, brand_id, url, events, created_at`,
      [e.id, e.brandId, e.url, e.events, e.secretSealed],
    )) as EndpointRow[];
    return fromRow(rows[0]);
  }

  async listOfBrand(brandId: string): Promise<Endpoint[]> {
    const rows = (await this.db.query(
      `SELECT id, brand_id, url, events, created_at FROM webhooks.endpoints
       WHERE brand_id = $1 ORDER BY created_at, id`,
      [brandId],
    )) as EndpointRow[];
    return rows.map(fromRow);
  }

  async findOfBrand(brandId: string, id: string): Promise<Endpoint | undefined> {
    const rows = (await this.db.query(
      `SELECT id, brand_id, url, events, created_at FROM webhooks.endpoints
       WHERE brand_id = $1 AND id = $2`,
      [brandId, id],
    )) as EndpointRow[];
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async countOfBrand(brandId: string): Promise<number> {
    const rows = (await this.db.query(
      `SELECT count(*)::int AS n FROM webhooks.endpoints WHERE brand_id = $1`,
      [brandId],
    )) as { n: number }[];
    return rows[0].n;
  }

  /** Deletes the brand's webhook with its pending deliveries; false when it has none such. */
  async deleteOfBrand(brandId: string, id: string): Promise<boolean> {
    // A DELETE answers [rows, count] through TypeORM's query(), not the rows alone.
    const [rows] = (await this.db.query(
      `DELETE FROM webhooks.endpoints WHERE brand_id = $1 AND id = $2 RETURNING id`,
      [brandId, id],
    )) as [{ id: string }[], number];
    return rows.length > 0;
  }

  /** The webhooks of these brands (the notifier's consumer picks the subscribed ones). */
  async ofBrands(brandIds: readonly string[]): Promise<Endpoint[]> {
    if (brandIds.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT id, brand_id, url, events, created_at FROM webhooks.endpoints
       WHERE brand_id = ANY($1::text[])`,
      [brandIds],
    )) as EndpointRow[];
    return rows.map(fromRow);
  }
}
