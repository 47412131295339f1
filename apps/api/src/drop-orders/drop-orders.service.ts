import { Injectable } from '@nestjs/common';
import { DomainError, Order, OrderStatus, Principal } from '@flashdrop/contracts';
import { HoldStatus, isDropId, toPublicOrder } from '@flashdrop/inventory';
import { decodeOrderCursor, DropRecords, encodeOrderCursor, OrderRecords } from '@flashdrop/sales';
import { DropOrdersQuery } from './drop-orders.dto';

const DEFAULT_LIMIT = 100;

/**
 * The stored statuses behind a public one (toPublicOrder): `paying` shows as `held`, a refund
 * under way (`refunding`) as `paid` until it is done.
 */
const STORED_STATUSES: Readonly<Record<OrderStatus, readonly HoldStatus[]>> = {
  held: ['held', 'paying'],
  grouped: ['grouped'],
  paid: ['paid', 'refunding'],
  cancelled: ['cancelled'],
  expired: ['expired'],
  refunded: ['refunded'],
};

/** One page of the export, ready to be read: its rows are streamed by `rows`. */
export interface ExportPage {
  /** The cursor of the next page, when more orders are stored after this one. */
  readonly nextCursor?: string;
  /** The page's orders, chunk by chunk, in storage order. */
  rows(): AsyncGenerator<Order[]>;
}

/**
 * The brands' order export (docs/api.md "Brands' fulfilment"): a drop's orders as PostgreSQL
 * holds them (`sales.orders`, written by the worker's order persistence), never Redis, paged on
 * each order's storage position, which never moves, so the pages of one export list each order
 * once even while the sale goes on. The owner brand or an operator; another brand's drop is
 * NOT_FOUND, as if absent.
 */
@Injectable()
export class DropOrdersService {
  constructor(
    private readonly drops: DropRecords,
    private readonly orders: OrderRecords,
  ) {}

  async page(caller: Principal, dropId: string, query: DropOrdersQuery): Promise<ExportPage> {
    const after = query.cursor === undefined ? 0 : decodeOrderCursor(query.cursor);
    if (after === undefined) {
      throw DomainError.invalid([{ field: 'cursor', message: 'cursor is not one this API gave' }]);
    }
    const drop = isDropId(dropId) ? await this.drops.find(dropId) : undefined;
    if (!drop || (caller.role !== 'operator' && drop.brandId !== caller.sub)) {
      throw DomainError.notFound('drop');
    }
    const statuses = query.status === undefined ? undefined : STORED_STATUSES[query.status];
    const bounds = await this.orders.pageBounds(dropId, {
      after,
      limit: query.limit ?? DEFAULT_LIMIT,
      statuses,
    });
    const orders = this.orders;
    return {
      nextCursor:
        bounds.more && bounds.last !== undefined ? encodeOrderCursor(bounds.last) : undefined,
      async *rows() {
        if (bounds.last === undefined) return;
        for await (const chunk of orders.readPage(dropId, { after, upTo: bounds.last }, statuses)) {
          yield chunk.map(toPublicOrder);
        }
      },
    };
  }
}
