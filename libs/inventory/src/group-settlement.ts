import { Logger } from '@nestjs/common';
import { RefundReply, RefundRequest, ReleaseReply, ReleaseRequest } from '@flashdrop/contracts';
import { Inventory } from './inventory';

/** The two wallet calls a group's end needs (libs/wallet-client WalletClient has both). */
export interface EscrowLedger {
  release(request: ReleaseRequest): Promise<ReleaseReply>;
  refund(request: RefundRequest): Promise<RefundReply>;
}

/** Where a group stands after one settlement pass. */
export type GroupSettled = 'open' | 'complete' | 'failing' | 'failed';

/**
 * The end of a group (README "Group buy"), driven by whoever gets there: the payment that
 * filled it (apps/api), or the group sweeper (apps/worker) at the deadline and after a crash.
 * Redis decides which end, once (the fence: complete_payment's move to `completing`, or
 * fail_group's to `failing`); each forward state is then finished by steps that are each safe to
 * repeat: the wallet's release or refund of a member (a unique transfer per order: a second call
 * answers `already`) and the Redis script that records it (finish_group, settle_failed_group:
 * by the orders' statuses). Two passes at once, or a pass after a crash half-way, move the money
 * once and end the group once.
 */
export class GroupSettlement {
  private readonly logger = new Logger(GroupSettlement.name);

  constructor(
    private readonly inventory: Inventory,
    private readonly ledger: EscrowLedger,
  ) {}

  /** One pass over a group: finishes a completing group, fails one past its deadline. */
  async settle(dropId: string, groupId: string): Promise<GroupSettled> {
    const group = await this.inventory.group(dropId, groupId);
    if (!group) throw new Error(`group ${groupId} of drop ${dropId} is not in Redis`);
    if (group.status === 'complete' || group.status === 'failed') return group.status;
    if (group.status === 'completing') return this.complete(dropId, groupId);
    return this.fail(dropId, groupId);
  }

  /** completing -> complete: every grouped member's escrow released, then all paid at once. */
  async complete(dropId: string, groupId: string): Promise<GroupSettled> {
    const brandId = await this.inventory.ownerOf(dropId);
    if (!brandId) throw new Error(`drop ${dropId} has no brandId in Redis`);
    for (const orderId of await this.inventory.groupMembers(dropId, groupId)) {
      const order = await this.inventory.getOrder(orderId);
      if (order?.status !== 'grouped') continue;
      const { outcome } = await this.ledger.release({
        orderId,
        brandId,
        ...(order.referrerId === undefined
          ? {}
          : { referrerId: order.referrerId, rewardMinor: order.rewardMinor }),
      });
      // A grouped order was debited into escrow (complete_payment runs only after a debit).
      if (outcome === 'not_paid') throw new Error(`grouped order ${orderId} has no payment`);
    }
    const done = await this.inventory.finishGroup(dropId, groupId);
    if (!done.ok) throw new Error(`group ${groupId} could not finish: ${done.code}`);
    return 'complete';
  }

  /**
   * At or past the deadline: open -> failing (unpaid holds expire), every grouped member
   * refunded from escrow, then failed once no member is left held, paying or grouped. A member
   * still paying is left to its payment (it ends grouped or expired); a later pass refunds it.
   */
  async fail(dropId: string, groupId: string): Promise<GroupSettled> {
    const step = await this.inventory.failGroup(dropId, groupId);
    if (step.step === 'open') return 'open';
    if (step.step === 'done') {
      if (step.status === 'completing') return this.complete(dropId, groupId);
      return step.status === 'complete' ? 'complete' : 'failed';
    }
    const refunded: string[] = [];
    for (const orderId of step.grouped) {
      // Attempt 0: the group's failure is the one refund of a grouped order, and its escrow
      // holds the payment (nothing else takes from escrow), so the wallet never declines it.
      const { outcome } = await this.ledger.refund({ orderId, attempt: 0 });
      if (outcome === 'not_paid' || outcome === 'declined') {
        this.logger.warn(`grouped order ${orderId}: the wallet answered ${outcome}: left grouped`);
        continue;
      }
      refunded.push(orderId);
    }
    const { failed } = await this.inventory.settleFailedGroup(dropId, groupId, refunded);
    return failed ? 'failed' : 'failing';
  }
}
