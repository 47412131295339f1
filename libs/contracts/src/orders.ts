/** Every status an order can be shown with (docs/api.md "Fans"). */
export const OrderStatuses = [
  'held',
  'grouped',
  'paid',
  'cancelled',
  'expired',
  'refunded',
] as const;
export type OrderStatus = (typeof OrderStatuses)[number];

/** An order as the public API shows it (docs/api.md "Fans"). Times are ISO 8601 UTC. */

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
  /** Group buy: the group this order is a member of (every order of a group-buy drop). */
  readonly groupId?: string;
}

/** A group of a group-buy drop as the public API shows it (docs/api.md "Campaigns"). */
export interface GroupView {
  readonly groupId: string;
  readonly dropId: string;
  readonly size: number;
  /** Member orders now held, grouped or paid: a member whose hold ended freed the seat. */
  readonly members: number;
  readonly paidMembers: number;
  readonly expiresAt: string;
  readonly status: 'open' | 'complete' | 'failed';
}
