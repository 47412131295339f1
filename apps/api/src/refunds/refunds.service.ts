import { Injectable, Logger } from '@nestjs/common';
import { DomainError, Order, Principal } from '@flashdrop/contracts';
import {
  dropIdOfOrder,
  Inventory,
  InventoryOrder,
  refusalError,
  toPublicOrder,
} from '@flashdrop/inventory';
import { WalletClient } from '@flashdrop/wallet-client';

const notFound = () => DomainError.notFound('order');

/**
 * Refunds (apps/wallet/PAYMENTS.md "Refunds"): `paid -> refunding` in Redis (the fence no other
 * transition touches), the wallet's reversing transfer (unique per order: money moves once
 * however often it is asked), then `refunding -> refunded` in Redis, which frees the unit down
 * the waitlist or to stock. A refund begun only goes forward: a caller that dies or times out
 * half-way leaves the order `refunding`, and the worker's RefundRecovery finishes it.
 */
@Injectable()
export class RefundsService {
  private readonly logger = new Logger(RefundsService.name);

  constructor(
    private readonly inventory: Inventory,
    private readonly wallet: WalletClient,
  ) {}

  /** The drop's brand or any operator; another brand's order is NOT_FOUND, as if absent. */
  async refund(caller: Principal, orderId: string, reason: string): Promise<Order> {
    const dropId = dropIdOfOrder(orderId);
    if (!dropId) throw notFound();
    if (caller.role !== 'operator' && (await this.inventory.ownerOf(dropId)) !== caller.sub) {
      throw notFound();
    }
    const begun = await this.inventory.beginRefund(orderId, reason);
    if (!begun.ok) throw begun.code === 'NOT_FOUND' ? notFound() : refusalError(begun);
    if (begun.value.repeat) return toPublicOrder(begun.value.order);
    return toPublicOrder(await this.finish(begun.value.order));
  }

  /** The wallet's refund, then the Redis step; both safe to run again. */
  private async finish(order: InventoryOrder): Promise<InventoryOrder> {
    const refunded = await this.wallet.refund({ orderId: order.id });
    if (refunded.outcome === 'not_paid') {
      // A paid order always has its debit (invariant 5): the audit reports the breach, and the
      // order stays `refunding` rather than give back money that never came in.
      this.logger.error(`order ${order.id} is paid but the wallet has no payment to refund`);
      throw new DomainError('INTERNAL', 'the order has no payment to refund');
    }
    const done = await this.inventory.completeRefund(order.id);
    if (!done.ok) throw new Error(`order ${order.id} refunded but not completable: ${done.code}`);
    return done.value;
  }
}
