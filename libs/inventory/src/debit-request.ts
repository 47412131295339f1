import { DebitRequest } from '@flashdrop/contracts';
import { InventoryOrder } from './types';

/**
 * The debit that pays one attempt of an order: what the API sends the wallet, and what the
 * ledger's specs send it to stand in for the API. The terms come from the hold (grab.lua and the
 * other hold steps decided them), so the wallet never looks them up.
 * - A group member's money goes to the drop's escrow; its referral reward waits for the group's
 *   release (GroupSettlement), so it does not ride along here.
 * - Any other order's reward is paid in the payment's own transaction.
 */
export function debitRequestOf(
  order: InventoryOrder,
  attempt: number,
  brandId: string,
): DebitRequest {
  return {
    orderId: order.id,
    attempt,
    fanId: order.fanId,
    dropId: order.dropId,
    brandId,
    amountMinor: order.amountMinor,
    currency: order.currency,
    ...(order.groupId === undefined ? {} : { escrow: true }),
    ...(order.referrerId === undefined || order.groupId !== undefined
      ? {}
      : { referrerId: order.referrerId, rewardMinor: order.rewardMinor }),
  };
}
