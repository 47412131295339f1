import { Injectable } from '@nestjs/common';
import { DomainError, Order } from '@flashdrop/contracts';
import { Inventory, InventoryOrder, refusalError, toPublicOrder } from '@flashdrop/inventory';
import { OrderRecords } from '@flashdrop/sales';

const notFound = () => DomainError.notFound('order');

/**
 * A fan's orders. Redis (the live hold state machine) answers first, so an order is readable
 * right after its 201; PostgreSQL (persisted from the streams by the worker) answers for
 * orders Redis no longer has. Another fan's order is NOT_FOUND, as if absent.
 */
@Injectable()
export class OrdersService {
  constructor(
    private readonly inventory: Inventory,
    private readonly orders: OrderRecords,
  ) {}

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
    const r = await this.inventory.cancelOrder(orderId, fanId);
    if (!r.ok) throw refusalError(r);
    return toPublicOrder(r.value);
  }
}
