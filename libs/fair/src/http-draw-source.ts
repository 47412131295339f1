import { DrawSource, PublishedDrawView } from './verify-draw';

/** A draw's public data read from a Flashdrop API's public routes (no token needed). */
export class HttpDrawSource implements DrawSource {
  constructor(
    private readonly api: string,
    private readonly dropId: string,
  ) {}

  draw(): Promise<PublishedDrawView> {
    return this.get(`/v1/drops/${encodeURIComponent(this.dropId)}/draw`);
  }

  async quantity(): Promise<number> {
    return (await this.get<{ quantity: number }>(`/v1/drops/${encodeURIComponent(this.dropId)}`))
      .quantity;
  }

  entrantsPage(cursor: string | undefined): Promise<{ items: string[]; nextCursor?: string }> {
    const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`;
    return this.get(`/v1/drops/${encodeURIComponent(this.dropId)}/draw/entrants${query}`);
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.api.replace(/\/+$/, '')}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}
