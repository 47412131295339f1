import { Inject, Injectable } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { DomainError, Order } from '@flashdrop/contracts';
import { Inventory, InventoryOrder, refusalError, toPublicOrder } from '@flashdrop/inventory';
import { OrderRecords } from '@flashdrop/sales';
import { FanRateLimiter } from '../rate-limit/fan-rate-limiter';

const notFound = () => DomainError.notFound('order');

/**
 * A fan's orders. Redis (the live hold state machine) answers first, so an order is readable
 * right after its 201; PostgreSQL (persisted from the streams by the worker) answers for
 * orders Redis no longer has. Another fan's order is NOT_FOUND, as if absent.
 */
@Injectable()
export class OrdersService {
  /** Cancels are bounded per fan like grabs: each one moves units and writes an event. */
  private readonly cancelLimiter: FanRateLimiter;

  constructor(
    private readonly inventory: Inventory,
    private readonly orders: OrderRecords,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.cancelLimiter = new FanRateLimiter(config.CANCEL_RATE_LIMIT_PER_SECOND, 1000);
  }

  async get(fanId: string, orderId: string): Promise<Order> {
    const live = await this.inventory.getOrder(orderId);
    if (live) {
      if (live.fanId !== fanId) throw notFound();
      return toPublicOrder(live);
    }
    const stored = await this.orders.find(fanId, orderId);
    if (!stored) throw notFound();
    return toPublicOrder(stored);
  }

  /** The fan's orders, newest first (at most 500). */
  async list(fanId: string): Promise<Order[]> {
    const [live, stored] = await Promise.all([
      this.inventory.ordersOfFan(fanId),
      this.orders.listOfFan(fanId, 500),
    ]);
    const byId = new Map<string, InventoryOrder>();
    for (const o of stored) byId.set(o.id, o);
    for (const o of live) byId.set(o.id, o);
    return [...byId.values()]
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, 500)
      .map(toPublicOrder);
  }

  /** held -> cancelled, the units back at once (cancel_order.lua). */
  async cancel(fanId: string, orderId: string): Promise<Order> {
    if (!this.cancelLimiter.allow(fanId)) {
      throw DomainError.tooMany('cancels', this.cancelLimiter.retryAfterSeconds());
    }
    const r = await this.inventory.cancelOrder(orderId, fanId);
    if (!r.ok) throw refusalError(r);
    return toPublicOrder(r.value);
  }
}
