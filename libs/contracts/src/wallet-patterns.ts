/** Message patterns of the wallet service's TCP transport: the API and the wallet meet here. */
export const WalletPatterns = {
  ping: 'wallet.ping',
  balance: 'wallet.balance',
  transactions: 'wallet.transactions',
  credit: 'wallet.credit',
  debit: 'wallet.debit',
  /** Several debits in one message: what the client sends when debits arrive together. */
  debitMany: 'wallet.debit-many',
  settle: 'wallet.settle',
  /** Reverses an order's payment, once (PAYMENTS.md "Refunds"). */
  refund: 'wallet.refund',
  /** Moves a completed group member's payment from escrow to revenue, once (PAYMENTS.md "Group buy"). */
  release: 'wallet.release',
} as const;

/** The currency of a wallet when the caller names none (docs/api.md: drops default to CNY). */
export const DEFAULT_CURRENCY = 'CNY';

export interface BalanceRequest {
  readonly fanId: string;
  readonly currency: string;
}

export interface BalanceReply {
  readonly fanId: string;
  readonly balanceMinor: number;
  readonly currency: string;
}

export interface TransactionsRequest {
  readonly fanId: string;
  readonly currency: string;
  /** Entries older than this cursor (an opaque string from a previous page); newest first. */
  readonly cursor?: string;
  readonly limit: number;
}

/** One movement of a fan's balance: one ledger entry of the fan's account. */
export interface WalletTransaction {
  readonly id: string;
  readonly transferId: string;
  readonly kind:
    | 'credit'
    | 'payment'
    | 'refund'
    | 'referral_reward'
    | 'referral_reward_reversal'
    | 'group_release';
  /** Signed: positive adds to the balance (credit, refund), negative takes from it (payment). */
  readonly amountMinor: number;
  readonly balanceAfterMinor: number;
  readonly currency: string;
  readonly reference?: string;
  readonly orderId?: string;
  readonly createdAt: string;
}

export interface TransactionsReply {
  readonly items: readonly WalletTransaction[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface CreditRequest {
  readonly fanId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly reference: string;
}

export interface CreditReply {
  readonly fanId: string;
  readonly balanceMinor: number;
  /** False when the reference was credited before: nothing moved this time. */
  readonly created: boolean;
}

/**
 * One payment attempt of one order (the order's `attempt`, set by begin_payment). The wallet
 * decides each (orderId, attempt) exactly once: debited, declined (insufficient funds) or voided
 * (the recovery job fenced it off); every later call for it answers the same outcome.
 */
export interface DebitRequest {
  readonly orderId: string;
  readonly attempt: number;
  readonly fanId: string;
  readonly dropId: string;
  readonly brandId: string;
  readonly amountMinor: number;
  readonly currency: string;
  /**
   * Referral rewards (apps/wallet/PAYMENTS.md "Referral rewards"): the order's referrer and
   * what they earn, paid in the payment's own transaction, at most amountMinor, never to the
   * payer. Absent (or '' and 0): no reward.
   */
  readonly referrerId?: string;
  readonly rewardMinor?: number;
  /**
   * Group buy: the order is a group member's, so its money goes to the drop's escrow account,
   * not the brand's revenue (and carries no reward yet: its release pays it). Absent: false.
   */
  readonly escrow?: boolean;
}

/**
 * A completed group's member: its payment moves from the drop's escrow to the brand's revenue
 * (and its referral reward, if any, is paid), exactly once per order.
 */
export interface ReleaseRequest {
  readonly orderId: string;
  readonly brandId: string;
  readonly referrerId?: string;
  readonly rewardMinor?: number;
}

/** `released`: this call moved it; `already`: an earlier one did; `not_paid`: no payment. */
export interface ReleaseReply {
  readonly orderId: string;
  readonly outcome: 'released' | 'already' | 'not_paid';
}

export type PaymentOutcome = 'debited' | 'declined' | 'voided';

export interface DebitReply {
  readonly orderId: string;
  readonly outcome: PaymentOutcome;
  /** The fan's balance right after the debit (debited), or now (declined, voided). */
  readonly balanceMinor: number;
}

/** At most this many debits in one `debitMany` message. */
export const MAX_DEBITS_PER_MESSAGE = 256;

export interface DebitManyRequest {
  readonly items: readonly DebitRequest[];
}

/** Each item's own answer, in the request's order: its reply, or its refusal. */
export type DebitOutcome = { readonly reply: DebitReply } | { readonly error: WalletErrorReply };

export interface DebitManyReply {
  readonly results: readonly DebitOutcome[];
}

export interface SettleRequest {
  readonly orderId: string;
  readonly attempt: number;
}

export interface SettleReply {
  readonly orderId: string;
  /** `debited`: complete the order; otherwise the attempt is fenced off: abort it. */
  readonly outcome: PaymentOutcome;
}

export interface RefundRequest {
  readonly orderId: string;
  /**
   * Which refund of the order this is: the order's `refundingSince` (begin_refund.lua), so every
   * caller of one refund (the API's, the refund recovery's) names the same attempt. A failed
   * group's member is refunded as attempt 0 (its escrow always holds the payment).
   */
  readonly attempt: number;
}

/**
 * `refunded`: this call moved the payment's amount back to the fan; `already`: an earlier call
 * did (nothing moved now); `declined`: the brand's revenue cannot pay this attempt (nothing
 * moved, and no later call of the same attempt will move anything: the caller may put the order
 * back to paid); `not_paid`: the order has no payment (nothing moved).
 */
export type RefundOutcome = 'refunded' | 'already' | 'declined' | 'not_paid';

export interface RefundReply {
  readonly orderId: string;
  readonly outcome: RefundOutcome;
  /** What went back to the fan (0 when declined or not paid). */
  readonly amountMinor: number;
  /** The fan's balance right after the refund (0 when not paid). */
  readonly balanceMinor: number;
  /**
   * The order's referral reward taken back from its referrer (up to their balance), and what
   * the brand bore because the referrer had spent it; both 0 without a reward.
   */
  readonly rewardReversedMinor: number;
  readonly rewardUnrecoveredMinor: number;
}

/** How the wallet reports a refusal over TCP; the API turns it back into a DomainError. */
export interface WalletErrorReply {
  readonly error: string;
  readonly message: string;
  readonly details?: readonly { field: string; message: string }[];
}
