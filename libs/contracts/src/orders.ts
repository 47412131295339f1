/** An order as the public API shows it (docs/api.md "Fans"). Times are ISO 8601 UTC. */
export type OrderStatus = 'held' | 'paid' | 'cancelled' | 'expired' | 'refunded';

export interface Order {
  readonly id: string;
  readonly dropId: string;
  readonly fanId: string;
  readonly quantity: number;
  readonly amountMinor: number;
  /** What one unit costs this order: the drop's price, less the share discount when it applied. */
  readonly unitPriceMinor: number;
  /** The share discount of the whole order (`shareDiscountMinor` x quantity; 0 when none). */
  readonly discountMinor: number;
  readonly currency: string;
  readonly status: OrderStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly paidAt?: string;
  /** A refunded order: when its money went back. */
  readonly refundedAt?: string;
}
