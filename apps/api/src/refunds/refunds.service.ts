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
 * the waitlist or to stock. A caller that dies or times out half-way leaves the order
 * `refunding`, and the worker's RefundRecovery finishes it. The one way back: the wallet
 * declines the attempt (the brand's whole revenue cannot pay it, recorded so that no call of
 * that attempt ever pays), and the order goes back to `paid` (abort_refund.lua): 402
 * INSUFFICIENT_FUNDS, nothing moved.
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

  /** The wallet's refund of this attempt, then the Redis step; both safe to run again. */
  private async finish(order: InventoryOrder): Promise<InventoryOrder> {
    const attempt = order.refundingSince;
    if (attempt === undefined) throw new Error(`order ${order.id} is refunding without an attempt`);
    const refunded = await this.wallet.refund({ orderId: order.id, attempt });
    if (refunded.outcome === 'declined') {
      // Declined for good (the wallet answers the same to every later call of this attempt),
      // so putting the order back to paid cannot meet a refund of it that still pays.
      await this.inventory.abortRefund(order.id, attempt);
      throw new DomainError('INSUFFICIENT_FUNDS', "the brand's revenue cannot pay this refund");
    }
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
