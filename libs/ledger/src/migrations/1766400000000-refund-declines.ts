import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A refund the brand's revenue cannot pay (apps/wallet/PAYMENTS.md "A refund the brand cannot
 * pay"). Before this migration `wallet.refund_order` failed on `accounts_not_negative` and the
 * order stayed `refunding` for ever, retried by the refund recovery every second. Now the
 * refusal is a decision, recorded, like a declined payment attempt:
 *
 * - A refund is asked per ATTEMPT: the order's `refundingSince`, which begin_refund.lua sets when
 *   it fences the order (paid -> refunding). Every caller of one attempt (the API's caller, the
 *   refund recovery, a retry) passes the same number.
 * - `wallet.refund_declines (order_id, attempt)`: an attempt the brand could not pay. Recorded in
 *   the same transaction that found the shortfall, after the money-moving block rolled back to
 *   its savepoint, so nothing of the refund stands. Once recorded, every later call of that
 *   attempt answers `declined` and moves nothing: the Redis side may then abort the attempt
 *   (refunding -> paid, abort_refund.lua) knowing no call of it can still pay the fan. Without
 *   this record an abort would race a recovery pass of the same attempt that found the brand
 *   funded a moment later: the money back AND the order paid.
 * - A new refund of the order after an abort is a new attempt (a later refundingSince), asked
 *   afresh.
 * - The payment's shard may lack the money even without an unrecovered reward (an earlier
 *   refund's `revenue_move` took from it): the shard is then filled from the brand's other
 *   shards as the reward case already did, so a refund is declined only when the brand's whole
 *   revenue in the currency cannot pay it.
 *
 * LOCK ORDER of `wallet.refund_order(order, attempt)` (PAYMENTS.md "Locks and deadlocks"):
 *   0. the order's payment transfer row (FOR NO KEY UPDATE: every refund call of the order queues
 *      here, so a decline is committed before the next call of its attempt looks for it; no
 *      other writer locks a payment row);
 *   1. the refund's unique key; 2. the payer's and the referrer's fan accounts (owner order);
 *   3. the payment's shard, or every revenue shard of the brand in shard order.
 */
export class RefundDeclines1766400000000 implements MigrationInterface {
  name = 'RefundDeclines1766400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wallet.refund_declines (
        order_id text NOT NULL,
        attempt bigint NOT NULL CHECK (attempt >= 0),
        -- What the refund would have given back, and what the brand's revenue lacked for it.
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        short_minor bigint NOT NULL CHECK (short_minor > 0),
        declined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, attempt)
      )`);

    await q.query(`DROP FUNCTION wallet.refund_order(text)`);
    // Outcomes: 'refunded' (this call moved the money), 'already' (an earlier call did),
    // 'declined' (the brand's revenue cannot pay this attempt: nothing moved, now or ever for
    // this attempt), 'not_paid' (no payment: nothing moved).
    await q.query(`
      CREATE FUNCTION wallet.refund_order(p_order text, p_attempt bigint)
      RETURNS TABLE (outcome text, fan_id text, amount_minor bigint, currency text,
                     balance_minor bigint, reward_reversed_minor bigint,
                     reward_unrecovered_minor bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_payment wallet.transfers%ROWTYPE;
        v_reward wallet.transfers%ROWTYPE;
        v_refund bigint;
        v_reversal bigint;
        v_revenue_account bigint;
        v_revenue_kind text;
        v_revenue_balance bigint;
        v_fan_account bigint;
        v_fan_balance bigint;
        v_ref_account bigint;
        v_ref_balance bigint;
        v_back bigint := 0;
        v_brand text;
        v_short bigint := 0;
        v_take bigint;
        v_move bigint;
        v_from_balance bigint;
        v_to_balance bigint;
        v_constraint text;
        v_fill_all boolean := false;
        v_locked_all boolean := false;
        r record;
      BEGIN
        -- Lock 0: the payment's row. Every refund call of this order waits here for the one
        -- before it, so a decline it recorded is seen by the next call of the same attempt.
        SELECT t.* INTO v_payment FROM wallet.transfers t
        WHERE t.kind = 'payment' AND t.order_id = p_order
        FOR NO KEY UPDATE;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'not_paid'::text, NULL::text, 0::bigint, NULL::text, 0::bigint,
            0::bigint, 0::bigint;
          RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM wallet.transfers t
                   WHERE t.kind = 'refund' AND t.order_id = p_order) THEN
          RETURN QUERY SELECT 'already'::text, v_payment.fan_id, v_payment.amount_minor,
            v_payment.currency,
            (SELECT e.balance_after_minor FROM wallet.transfers t
               JOIN wallet.entries e ON e.transfer_id = t.id AND e.amount_minor > 0
               JOIN wallet.accounts a ON a.id = e.account_id AND a.kind = 'fan'
             WHERE t.kind = 'refund' AND t.order_id = p_order),
            COALESCE((SELECT t.amount_minor FROM wallet.transfers t
                      WHERE t.kind = 'referral_reward_reversal' AND t.order_id = p_order), 0),
            COALESCE((SELECT t.reward_unrecovered_minor FROM wallet.transfers t
                      WHERE t.kind = 'refund' AND t.order_id = p_order), 0);
          RETURN;
        END IF;
        -- A declined attempt stays declined: the caller that saw it may already have put the
        -- order back to paid.
        IF EXISTS (SELECT 1 FROM wallet.refund_declines d
                   WHERE d.order_id = p_order AND d.attempt = p_attempt) THEN
          RETURN QUERY SELECT 'declined'::text, v_payment.fan_id, 0::bigint, v_payment.currency,
            0::bigint, 0::bigint, 0::bigint;
          RETURN;
        END IF;
        -- Where the payment's money is now: the revenue shard a group release moved it to (a
        -- completed group's member), else the shard the payment credited: the brand's revenue,
        -- or the drop's escrow (a member of a group that failed).
        SELECT e.account_id INTO v_revenue_account FROM wallet.transfers t
          JOIN wallet.entries e ON e.transfer_id = t.id AND e.amount_minor > 0
        WHERE t.kind = 'group_release' AND t.order_id = p_order;
        IF v_revenue_account IS NULL THEN
          SELECT e.account_id INTO v_revenue_account FROM wallet.entries e
            JOIN wallet.accounts a ON a.id = e.account_id AND a.kind IN ('revenue', 'escrow')
          WHERE e.transfer_id = v_payment.id;
        END IF;
        SELECT a.kind, a.owner_id INTO v_revenue_kind, v_brand FROM wallet.accounts a
        WHERE a.id = v_revenue_account;
        SELECT t.* INTO v_reward FROM wallet.transfers t
        WHERE t.kind = 'referral_reward' AND t.order_id = p_order;
        IF FOUND THEN
          SELECT e.account_id INTO v_ref_account FROM wallet.entries e
          WHERE e.transfer_id = v_reward.id AND e.amount_minor > 0;
        END IF;

        -- Everything that moves money, in one block: a shortfall rolls it all back to the
        -- block's savepoint (its row locks too). Judged with every revenue shard of the brand
        -- locked, it is this attempt's decline; judged on the payment's shard alone (another
        -- refund took from it after the unlocked read below), the block runs once more with
        -- every shard locked. Variables keep their values across the rollback: reset here.
        LOOP
          v_back := 0;
          v_short := 0;
          v_locked_all := false;
          BEGIN
            -- Lock 1: the refund's key.
            INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
            VALUES ('refund', v_payment.fan_id, v_payment.currency, v_payment.amount_minor,
                    p_order, v_payment.drop_id)
            RETURNING id INTO v_refund;
            -- Lock 2: the payer's account and the referrer's (when the order paid a reward), in
            -- owner order; the fan gets the payment back, the referrer gives the reward back as
            -- far as their balance goes.
            FOR r IN
              SELECT a.id, a.owner_id, a.balance_minor FROM wallet.accounts a
              WHERE a.kind = 'fan' AND a.currency = v_payment.currency AND a.shard = 0
                AND (a.owner_id = v_payment.fan_id OR a.id = v_ref_account)
              ORDER BY a.owner_id
              FOR UPDATE
            LOOP
              IF r.id = v_ref_account THEN
                v_back := LEAST(v_reward.amount_minor, r.balance_minor);
              END IF;
            END LOOP;
            UPDATE wallet.accounts a SET balance_minor = a.balance_minor + v_payment.amount_minor
            WHERE a.kind = 'fan' AND a.owner_id = v_payment.fan_id
              AND a.currency = v_payment.currency AND a.shard = 0
            RETURNING a.id, a.balance_minor INTO v_fan_account, v_fan_balance;
            IF v_back > 0 THEN
              UPDATE wallet.accounts a SET balance_minor = a.balance_minor - v_back
              WHERE a.id = v_ref_account
              RETURNING a.balance_minor INTO v_ref_balance;
            END IF;
            -- Lock 3: the payment's shard. A revenue shard may lack part of the payment (the
            -- referrer could not give the whole reward back, or an earlier refund's move took from
            -- it; the unlocked read only chooses the path): then every revenue shard of the brand
            -- in the currency is locked, in shard order (the order debit batches take them in),
            -- and what the payment's shard lacks moves there from the others, lowest shard
            -- first, one revenue_move transfer each. An escrow shard always holds its payments.
            IF v_revenue_kind = 'revenue' AND (v_fill_all
                 OR (v_reward.id IS NOT NULL AND v_back < v_reward.amount_minor)
                 OR (SELECT a.balance_minor FROM wallet.accounts a WHERE a.id = v_revenue_account)
                      + v_back < v_payment.amount_minor) THEN
              FOR r IN
                SELECT a.id, a.balance_minor FROM wallet.accounts a
                WHERE a.kind = 'revenue' AND a.owner_id = v_brand
                  AND a.currency = v_payment.currency
                ORDER BY a.shard
                FOR UPDATE
              LOOP
                v_locked_all := true;
                IF r.id = v_revenue_account THEN
                  v_short := v_payment.amount_minor - v_back - r.balance_minor;
                END IF;
              END LOOP;
              FOR r IN
                SELECT a.id, a.balance_minor FROM wallet.accounts a
                WHERE a.kind = 'revenue' AND a.owner_id = v_brand
                  AND a.currency = v_payment.currency AND a.id <> v_revenue_account
                ORDER BY a.shard
              LOOP
                EXIT WHEN v_short <= 0;
                v_take := LEAST(v_short, r.balance_minor);
                CONTINUE WHEN v_take <= 0;
                UPDATE wallet.accounts a SET balance_minor = a.balance_minor - v_take
                WHERE a.id = r.id RETURNING a.balance_minor INTO v_from_balance;
                UPDATE wallet.accounts a SET balance_minor = a.balance_minor + v_take
                WHERE a.id = v_revenue_account RETURNING a.balance_minor INTO v_to_balance;
                INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id,
                                              drop_id)
                VALUES ('revenue_move', v_brand, v_payment.currency, v_take, p_order,
                        v_payment.drop_id)
                RETURNING id INTO v_move;
                INSERT INTO wallet.entries (transfer_id, account_id, amount_minor,
                                            balance_after_minor)
                VALUES (v_move, r.id, -v_take, v_from_balance),
                       (v_move, v_revenue_account, v_take, v_to_balance);
                v_short := v_short - v_take;
              END LOOP;
            END IF;
            -- The reversal in, the refund out. accounts_not_negative is the one judge of a
            -- shortfall: the brand's whole revenue could not fill the shard.
            UPDATE wallet.accounts a
            SET balance_minor = a.balance_minor + v_back - v_payment.amount_minor
            WHERE a.id = v_revenue_account
            RETURNING a.balance_minor INTO v_revenue_balance;
            IF v_reward.id IS NOT NULL THEN
              UPDATE wallet.transfers t
              SET reward_unrecovered_minor = v_reward.amount_minor - v_back
              WHERE t.id = v_refund;
            END IF;
            IF v_back > 0 THEN
              INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id,
                                            drop_id)
              VALUES ('referral_reward_reversal', v_reward.fan_id, v_payment.currency, v_back,
                      p_order, v_payment.drop_id)
              RETURNING id INTO v_reversal;
              INSERT INTO wallet.entries (transfer_id, account_id, amount_minor,
                                          balance_after_minor)
              VALUES (v_reversal, v_ref_account, -v_back, v_ref_balance),
                     (v_reversal, v_revenue_account, v_back,
                      v_revenue_balance + v_payment.amount_minor);
            END IF;
            INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
            VALUES (v_refund, v_fan_account, v_payment.amount_minor, v_fan_balance),
                   (v_refund, v_revenue_account, -v_payment.amount_minor, v_revenue_balance);
            INSERT INTO wallet.outbox (type, version, key, data)
            VALUES ('wallet.refunded', 1, v_payment.fan_id, jsonb_build_object(
              'fanId', v_payment.fan_id, 'orderId', p_order, 'dropId', v_payment.drop_id,
              'amountMinor', v_payment.amount_minor, 'balanceMinor', v_fan_balance));
            EXIT;
          EXCEPTION WHEN check_violation THEN
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint IS DISTINCT FROM 'accounts_not_negative' THEN
              RAISE;
            END IF;
            IF v_revenue_kind = 'revenue' AND NOT v_locked_all THEN
              v_fill_all := true;
              CONTINUE;
            END IF;
            -- Nothing of the block stands. v_short: what the brand's whole revenue lacked, read
            -- under the shards' locks.
            INSERT INTO wallet.refund_declines (order_id, attempt, amount_minor, short_minor)
            VALUES (p_order, p_attempt, v_payment.amount_minor, GREATEST(1, v_short));
            RETURN QUERY SELECT 'declined'::text, v_payment.fan_id, 0::bigint,
              v_payment.currency, 0::bigint, 0::bigint, 0::bigint;
            RETURN;
          END;
        END LOOP;
        RETURN QUERY SELECT 'refunded'::text, v_payment.fan_id, v_payment.amount_minor,
          v_payment.currency, v_fan_balance, v_back,
          CASE WHEN v_reward.id IS NULL THEN 0::bigint ELSE v_reward.amount_minor - v_back END;
      END $$`);
  }

  /** Not reversible: declined refund attempts are part of the money's history. */
  async down(): Promise<void> {
    throw new Error('RefundDeclines1766400000000 is not reversible: declines are records');
  }
}
