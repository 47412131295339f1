import { DataSource } from 'typeorm';

/** A transfer whose two entries do not balance, or do not match its amount. */
export interface UnbalancedTransfer {
  readonly id: string;
  readonly entries: number;
  readonly total: string;
}

/** An account whose balance is not the sum of its entries. */
export interface AccountOffItsEntries {
  readonly id: string;
  readonly balance: string;
  readonly sumOfEntries: string;
}

export interface NegativeAccount {
  readonly id: string;
  readonly kind: string;
  readonly balance: string;
}

/** Per currency: what fans and brands hold, what was credited, what external funding shows. */
export interface CurrencyTotals {
  readonly currency: string;
  readonly held: bigint;
  readonly credited: bigint;
  readonly external: bigint;
}

/** Every payment transfer of one order, summed. */
export interface OrderDebits {
  readonly orderId: string;
  readonly fanId: string;
  readonly amount: number;
  readonly count: number;
}

/**
 * Every refund transfer of one order, summed, beside the order's payment: a refund reverses
 * exactly one payment (the payment's fan and amount), once.
 */
export interface OrderRefunds {
  readonly orderId: string;
  readonly fanId: string;
  readonly amount: number;
  readonly count: number;
  /** The order's payment transfer (undefined when it has none). */
  readonly paymentFanId?: string;
  readonly paymentAmount?: number;
  /** Whether the refund's entries credit the fan's account and take from the payment's revenue shard. */
  readonly reversesPayment: boolean;
}

/**
 * One order's referral reward as the ledger holds it: the reward transfers (one, by a unique
 * index), whether it moved from the revenue shard the order's payment credited to the
 * referrer's fan account, and, once refunded, what its reversal took back and what the brand
 * bore (reversed + unrecovered = the reward).
 */
export interface OrderReward {
  readonly orderId: string;
  readonly referrerId: string;
  readonly amount: number;
  readonly count: number;
  /** The payer of the order's payment (undefined when it has none). */
  readonly payerId?: string;
  readonly fromPaymentShardToReferrer: boolean;
  readonly refunded: boolean;
  readonly reversed: number;
  readonly reversals: number;
  /** The reversal's account is the referrer's (true when there is no reversal). */
  readonly reversalFromReferrer: boolean;
  /** What the brand bore of the reward (the refund's reward_unrecovered_minor; 0 when none). */
  readonly unrecovered: number;
  /** Whether the refund recorded a reward_unrecovered_minor (it must, for a rewarded order). */
  readonly refundRecordsReward: boolean;
}

/**
 * Read-only facts of the `wallet` schema, for the audit (libs/audit): the ledger's own
 * invariants and what it says was debited, so no other library spells the wallet's tables.
 */
export class LedgerFacts {
  constructor(private readonly db: DataSource) {}

  async unbalancedTransfers(): Promise<UnbalancedTransfer[]> {
    const rows: { id: string; n: string; total: string }[] = await this.db.query(
      `SELECT t.id, count(e.id) AS n, COALESCE(sum(e.amount_minor), 0) AS total
       FROM wallet.transfers t LEFT JOIN wallet.entries e ON e.transfer_id = t.id
       GROUP BY t.id HAVING count(e.id) <> 2 OR COALESCE(sum(e.amount_minor), 0) <> 0
          OR bool_or(abs(e.amount_minor) <> t.amount_minor)`,
    );
    return rows.map((r) => ({ id: r.id, entries: Number(r.n), total: r.total }));
  }

  async accountsOffTheirEntries(): Promise<AccountOffItsEntries[]> {
    const rows: { id: string; balance: string; sum: string }[] = await this.db.query(
      `SELECT a.id, a.balance_minor AS balance, COALESCE(s.total, 0) AS sum
       FROM wallet.accounts a
       LEFT JOIN (SELECT account_id, sum(amount_minor) AS total FROM wallet.entries
                  GROUP BY account_id) s ON s.account_id = a.id
       WHERE a.balance_minor <> COALESCE(s.total, 0)`,
    );
    return rows.map((r) => ({ id: r.id, balance: r.balance, sumOfEntries: r.sum }));
  }

  /** Accounts below zero; only external funding may be. */
  async negativeAccounts(): Promise<NegativeAccount[]> {
    return this.db.query(
      `SELECT id, kind, balance_minor AS balance FROM wallet.accounts
       WHERE kind <> 'external' AND balance_minor < 0`,
    );
  }

  async currencyTotals(): Promise<CurrencyTotals[]> {
    const rows: { currency: string; held: string; credited: string; ext: string }[] =
      await this.db.query(
        `SELECT cur.currency,
                (SELECT COALESCE(sum(balance_minor), 0) FROM wallet.accounts
                 WHERE kind <> 'external' AND currency = cur.currency) AS held,
                (SELECT COALESCE(sum(amount_minor), 0) FROM wallet.transfers
                 WHERE kind = 'credit' AND currency = cur.currency) AS credited,
                (SELECT COALESCE(sum(balance_minor), 0) FROM wallet.accounts
                 WHERE kind = 'external' AND currency = cur.currency) AS ext
         FROM (SELECT DISTINCT currency FROM wallet.accounts) cur`,
      );
    return rows.map((r) => ({
      currency: r.currency,
      held: BigInt(r.held),
      credited: BigInt(r.credited),
      external: BigInt(r.ext),
    }));
  }

  async debitsByOrder(): Promise<OrderDebits[]> {
    const rows: { order_id: string; fan_id: string; amount: string; n: string }[] =
      await this.db.query(
        `SELECT order_id, min(fan_id) AS fan_id, sum(amount_minor) AS amount, count(*) AS n
         FROM wallet.transfers WHERE kind = 'payment' GROUP BY order_id`,
      );
    return rows.map((r) => ({
      orderId: r.order_id,
      fanId: r.fan_id,
      amount: Number(r.amount),
      count: Number(r.n),
    }));
  }

  async refundsByOrder(): Promise<OrderRefunds[]> {
    const rows: {
      order_id: string;
      fan_id: string;
      amount: string;
      n: string;
      payment_fan: string | null;
      payment_amount: string | null;
      reverses: boolean;
    }[] = await this.db.query(
      `SELECT r.order_id, min(r.fan_id) AS fan_id, sum(r.amount_minor) AS amount, count(*) AS n,
              min(p.fan_id) AS payment_fan, min(p.amount_minor) AS payment_amount,
              bool_and(EXISTS (
                SELECT 1 FROM wallet.entries re JOIN wallet.entries pe
                  ON pe.account_id = re.account_id AND pe.amount_minor = -re.amount_minor
                WHERE re.transfer_id = r.id AND (pe.transfer_id = p.id OR pe.transfer_id IN (
                  SELECT g.id FROM wallet.transfers g
                  WHERE g.kind = 'group_release' AND g.order_id = r.order_id))
                GROUP BY re.transfer_id HAVING count(*) = 2)) AS reverses
       FROM wallet.transfers r
       LEFT JOIN wallet.transfers p ON p.kind = 'payment' AND p.order_id = r.order_id
       WHERE r.kind = 'refund' GROUP BY r.order_id`,
    );
    return rows.map((r) => ({
      orderId: r.order_id,
      fanId: r.fan_id,
      amount: Number(r.amount),
      count: Number(r.n),
      ...(r.payment_fan === null
        ? {}
        : { paymentFanId: r.payment_fan, paymentAmount: Number(r.payment_amount) }),
      reversesPayment: r.reverses === true,
    }));
  }

  async rewardsByOrder(): Promise<OrderReward[]> {
    const rows: {
      order_id: string;
      referrer: string;
      amount: string;
      n: string;
      payer: string | null;
      moved: boolean;
      refunded: boolean;
      reversed: string;
      reversals: string;
      reversal_ok: boolean;
      unrecovered: string | null;
      recorded: boolean;
    }[] = await this.db.query(
      `SELECT w.order_id, min(w.fan_id) AS referrer, sum(w.amount_minor) AS amount,
              count(*) AS n, min(p.fan_id) AS payer,
              bool_and(
                EXISTS (SELECT 1 FROM wallet.entries we JOIN wallet.entries pe
                          ON pe.account_id = we.account_id AND pe.amount_minor > 0
                        WHERE we.transfer_id = w.id AND we.amount_minor = -w.amount_minor
                          AND (pe.transfer_id = p.id OR pe.transfer_id IN (
                            SELECT g.id FROM wallet.transfers g
                            WHERE g.kind = 'group_release' AND g.order_id = w.order_id)))
                AND EXISTS (SELECT 1 FROM wallet.entries we JOIN wallet.accounts a
                              ON a.id = we.account_id AND a.kind = 'fan'
                             AND a.owner_id = w.fan_id
                            WHERE we.transfer_id = w.id AND we.amount_minor = w.amount_minor))
                AS moved,
              bool_or(f.id IS NOT NULL) AS refunded,
              COALESCE((SELECT sum(v.amount_minor) FROM wallet.transfers v
                        WHERE v.kind = 'referral_reward_reversal' AND v.order_id = w.order_id),
                       0) AS reversed,
              (SELECT count(*) FROM wallet.transfers v
               WHERE v.kind = 'referral_reward_reversal' AND v.order_id = w.order_id) AS reversals,
              NOT EXISTS (SELECT 1 FROM wallet.transfers v
                          JOIN wallet.entries ve ON ve.transfer_id = v.id AND ve.amount_minor < 0
                          JOIN wallet.accounts a ON a.id = ve.account_id
                          WHERE v.kind = 'referral_reward_reversal' AND v.order_id = w.order_id
                            AND (a.kind <> 'fan' OR a.owner_id <> min(w.fan_id)))
                AS reversal_ok,
              min(f.reward_unrecovered_minor) AS unrecovered,
              bool_or(f.reward_unrecovered_minor IS NOT NULL) AS recorded
       FROM wallet.transfers w
       LEFT JOIN wallet.transfers p ON p.kind = 'payment' AND p.order_id = w.order_id
       LEFT JOIN wallet.transfers f ON f.kind = 'refund' AND f.order_id = w.order_id
       WHERE w.kind = 'referral_reward' GROUP BY w.order_id`,
    );
    return rows.map((r) => ({
      orderId: r.order_id,
      referrerId: r.referrer,
      amount: Number(r.amount),
      count: Number(r.n),
      ...(r.payer === null ? {} : { payerId: r.payer }),
      fromPaymentShardToReferrer: r.moved === true,
      refunded: r.refunded === true,
      reversed: Number(r.reversed),
      reversals: Number(r.reversals),
      reversalFromReferrer: r.reversal_ok === true,
      unrecovered: Number(r.unrecovered ?? 0),
      refundRecordsReward: r.recorded === true,
    }));
  }

  /** Group buy: each drop's escrow balance (the sum of its escrow shards), by drop id. */
  async escrowByDrop(): Promise<Map<string, number>> {
    const rows: { owner_id: string; total: string }[] = await this.db.query(
      `SELECT owner_id, sum(balance_minor) AS total FROM wallet.accounts
       WHERE kind = 'escrow' GROUP BY owner_id`,
    );
    return new Map(rows.map((r) => [r.owner_id, Number(r.total)]));
  }

  /**
   * Group buy: per order with a group release, how many releases, whether each moved the
   * order's payment (its amount) out of the escrow shard the payment credited, and whether the
   * order was also refunded (never both: one group ends one way).
   */
  async releasesByOrder(): Promise<
    Map<string, { count: number; fromPaymentEscrow: boolean; refunded: boolean }>
  > {
    const rows: { order_id: string; n: string; moved: boolean; refunded: boolean }[] =
      await this.db.query(
        `SELECT g.order_id, count(*) AS n,
                bool_and(EXISTS (
                  SELECT 1 FROM wallet.entries ge JOIN wallet.entries pe
                    ON pe.account_id = ge.account_id AND pe.amount_minor = -ge.amount_minor
                  JOIN wallet.accounts a ON a.id = ge.account_id AND a.kind = 'escrow'
                  WHERE ge.transfer_id = g.id AND pe.transfer_id = p.id)) AS moved,
                bool_or(EXISTS (SELECT 1 FROM wallet.transfers f
                                WHERE f.kind = 'refund' AND f.order_id = g.order_id)) AS refunded
         FROM wallet.transfers g
         LEFT JOIN wallet.transfers p ON p.kind = 'payment' AND p.order_id = g.order_id
         WHERE g.kind = 'group_release' GROUP BY g.order_id`,
      );
    return new Map(
      rows.map((r) => [
        r.order_id,
        { count: Number(r.n), fromPaymentEscrow: r.moved === true, refunded: r.refunded === true },
      ]),
    );
  }

  /** Reward reversals of orders that paid no reward: order id -> how many. */
  async reversalsWithoutReward(): Promise<Map<string, number>> {
    const rows: { order_id: string; n: string }[] = await this.db.query(
      `SELECT v.order_id, count(*) AS n FROM wallet.transfers v
       WHERE v.kind = 'referral_reward_reversal' AND NOT EXISTS (
         SELECT 1 FROM wallet.transfers w
         WHERE w.kind = 'referral_reward' AND w.order_id = v.order_id)
       GROUP BY v.order_id`,
    );
    return new Map(rows.map((r) => [r.order_id, Number(r.n)]));
  }

  /**
   * `revenue_move` transfers (a refund filling its payment's shard from the brand's others) that
   * do not move money from one revenue shard to another of the same brand and currency, or
   * belong to no refunded order: their ids.
   */
  async revenueMovesAmiss(): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT t.id FROM wallet.transfers t
       WHERE t.kind = 'revenue_move' AND (
         NOT EXISTS (SELECT 1 FROM wallet.transfers f
                     WHERE f.kind = 'refund' AND f.order_id = t.order_id)
         OR EXISTS (SELECT 1 FROM wallet.entries e JOIN wallet.accounts a ON a.id = e.account_id
                    WHERE e.transfer_id = t.id
                      AND (a.kind <> 'revenue' OR a.owner_id <> t.fan_id
                           OR a.currency <> t.currency)))`,
    );
    return rows.map((r) => r.id);
  }

  /** Orders with more (or fewer) than one `debited` payment attempt: order id -> how many. */
  async ordersNotDebitedOnce(): Promise<Map<string, number>> {
    const rows: { order_id: string; n: string }[] = await this.db.query(
      `SELECT order_id, count(*) AS n FROM wallet.payments WHERE status = 'debited'
       GROUP BY order_id HAVING count(*) <> 1`,
    );
    return new Map(rows.map((r) => [r.order_id, Number(r.n)]));
  }

  /** The drops of every order the wallet debited (order ids embed the drop id). */
  async paidDropIds(): Promise<string[]> {
    const rows: { drop_id: string }[] = await this.db.query(
      `SELECT DISTINCT split_part(order_id, '-', 1) AS drop_id FROM wallet.transfers
       WHERE kind = 'payment'`,
    );
    return rows.map((r) => r.drop_id);
  }

  async counts(): Promise<{ accounts: number; transfers: number }> {
    const [{ accounts }] = await this.db.query(`SELECT count(*) AS accounts FROM wallet.accounts`);
    const [{ transfers }] = await this.db.query(
      `SELECT count(*) AS transfers FROM wallet.transfers`,
    );
    return { accounts: Number(accounts), transfers: Number(transfers) };
  }
}
