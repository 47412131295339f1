import { Inject, Injectable } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { DomainError, Order } from '@flashdrop/contracts';
import { WalletClient } from '@flashdrop/wallet-client';
import {
  debitRequestOf,
  GroupSettlement,
  Inventory,
  InventoryOrder,
  refusalError,
  toPublicOrder,
} from '@flashdrop/inventory';

/** Drops whose brand this process remembers (a drop's brand never changes: drop-rules.ts). */
const BRAND_CACHE_SIZE = 10_000;

/**
 * Checkout: `held -> paying -> paid` in Redis around one debit in the wallet, exactly once
 * (apps/wallet/PAYMENTS.md). The attempt's identity is the `payingUntil` that begin_payment
 * stamped on the order: callers of one attempt share the wallet's recorded outcome for it.
 */
@Injectable()
export class PaymentsService {
  private readonly brands = new Map<string, string>();
  private readonly groups: GroupSettlement;

  constructor(
    private readonly inventory: Inventory,
    private readonly wallet: WalletClient,
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
  ) {
    this.groups = new GroupSettlement(inventory, wallet);
  }

  /**
   * An `idempotencyKey` is bound to this order inside begin_payment's atomic step (scoped to the
   * fan and the drop, like a grab's): the same key for another order or another route is 409
   * IDEMPOTENCY_KEY_REUSED before anything moves; with the same order, the payment itself is
   * exactly once by order, so a repeat answers the order's outcome.
   */
  async pay(orderId: string, fanId: string, idempotencyKey?: string): Promise<Order> {
    // One retry: the recovery job may have voided a stale attempt and put the hold back, or
    // the attempt joined was declined before a top-up; a fresh attempt is then safe (the old
    // one can never debit).
    for (let round = 0; ; round++) {
      const order = await this.beginOrJoin(orderId, fanId, idempotencyKey);
      if (order.status === 'paid') return toPublicOrder(order);
      if (order.status === 'grouped') return this.grouped(order);
      const attempt = order.payingUntil;
      if (attempt === undefined) throw new Error(`order ${orderId} is paying without payingUntil`);

      const debit = await this.wallet.debit(
        debitRequestOf(order, attempt, await this.brandOf(order.dropId)),
      );

      if (debit.outcome === 'debited') {
        // The money is taken: the order becomes paid whatever the deadline says now (the
        // `paying` state kept the sweeper and cancel away from it).
        const done = await this.inventory.completePayment(orderId);
        if (!done.ok) throw new Error(`order ${orderId} debited but not completable: ${done.code}`);
        if (done.value.status === 'grouped') return this.grouped(done.value);
        return toPublicOrder(done.value);
      }
      if (debit.outcome === 'declined') {
        // The wallet recorded this attempt as declined before we abort it, so no concurrent
        // caller of the same attempt can debit after the hold is back (or expired).
        await this.inventory.abortPayment(orderId, attempt);
        // The attempt joined may have been declined long ago by a payer that died before it
        // aborted (the wallet answers an attempt's recorded outcome): if the fan holds enough
        // now, one fresh attempt pays, as after a void. The declined one can never debit.
        if (debit.balanceMinor >= order.amountMinor && round === 0) continue;
        throw new DomainError(
          'INSUFFICIENT_FUNDS',
          `the wallet holds ${debit.balanceMinor}, the order costs ${order.amountMinor}`,
        );
      }
      // voided: the recovery job fenced this attempt off and aborts it itself.
      const now = await this.inventory.getOrder(orderId);
      if (now?.status === 'held' && round === 0) continue;
      if (now?.status === 'expired') throw new DomainError('HOLD_EXPIRED');
      if (now?.status === 'cancelled') {
        throw new DomainError('ORDER_CANCELLED');
      }
      throw new DomainError('PAYMENT_IN_PROGRESS', 'the payment is being settled; try again');
    }
  }

  /**
   * A group member's payment is in escrow: when it filled the group (complete_payment moved the
   * group to `completing`), this caller completes the group now (the sweeper would, a few
   * seconds later, after a crash) and answers the order `paid`; otherwise it stays `grouped`.
   */
  private async grouped(order: InventoryOrder): Promise<Order> {
    const groupId = order.groupId;
    if (groupId === undefined) return toPublicOrder(order);
    const group = await this.inventory.group(order.dropId, groupId);
    if (group?.status !== 'completing' && group?.status !== 'complete') return toPublicOrder(order);
    if (group.status === 'completing') await this.groups.complete(order.dropId, groupId);
    const now = await this.inventory.getOrder(order.id);
    return toPublicOrder(now ?? order);
  }

  /** held -> paying, or the attempt already paying (concurrent callers join it). */
  private async beginOrJoin(
    orderId: string,
    fanId: string,
    idempotencyKey: string | undefined,
  ): Promise<InventoryOrder> {
    const begun = await this.inventory.beginPayment(orderId, {
      fanId,
      payingTtlMs: this.config.PAYMENT_WINDOW_MS,
      idempotencyKey,
    });
    if (begun.ok) return begun.value;
    if ((begun.code === 'PAYMENT_IN_PROGRESS' || begun.code === 'ORDER_PAID') && begun.order) {
      return begun.order;
    }
    throw refusalError(begun);
  }

  /**
   * The brand whose revenue the payment goes to, from the drop's mirror in Redis, remembered:
   * a drop's brand is fixed at creation, and a phone sale's 50,000 payments share one drop, so
   * this saves a Redis round trip on all but the first.
   */
  private async brandOf(dropId: string): Promise<string> {
    const known = this.brands.get(dropId);
    if (known !== undefined) return known;
    const brandId = await this.inventory.ownerOf(dropId);
    if (!brandId) throw new Error(`drop ${dropId} has no brandId in Redis`);
    if (this.brands.size >= BRAND_CACHE_SIZE) this.brands.clear();
    this.brands.set(dropId, brandId);
    return brandId;
  }
}
