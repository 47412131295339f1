import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refunds (docs/api.md "Campaigns"; apps/wallet/PAYMENTS.md "Refunds"): a refund is a transfer
 * of its own, kind `refund`, that reverses an order's payment: the payment's amount from the
 * revenue shard the payment credited back to the fan. At most one per order, by a unique index,
 * so however often or concurrently a refund is asked, the money moves once.
 *
 * LOCK ORDER of `wallet.refund_order` (see PAYMENTS.md "Locks and deadlocks"):
 *   1. the refund's unique key `transfers (order_id) WHERE kind = 'refund'` (no other
 *      transaction takes it); a concurrent refund of the same order blocks here, then finds the
 *      first one committed and moves nothing;
 *   2. the fan's account (one);
 *   3. the one revenue shard the payment credited.
 * Like every other writer, fan accounts before system shards, so no cycle can form.
 */
export class Refunds1766100000000 implements MigrationInterface {
  name = 'Refunds1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_kind_check`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_kind_check
        CHECK (kind IN ('credit', 'payment', 'refund'))`);
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_payment_has_order`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_payment_has_order
        CHECK ((kind IN ('payment', 'refund')) = (order_id IS NOT NULL))`);
    // An order is refunded by at most one transfer.
    await q.query(
      `CREATE UNIQUE INDEX transfers_refund_order ON wallet.transfers (order_id) WHERE kind = 'refund'`,
    );

    // Reverses the order's payment, once. Outcomes: 'refunded' (this call moved the money),
    // 'already' (an earlier call did: nothing moved now), 'not_paid' (the order has no payment:
    // nothing moved). balance_minor: the fan's balance right after the refund's entry.
    await q.query(`
      CREATE FUNCTION wallet.refund_order(p_order text)
      RETURNS TABLE (outcome text, fan_id text, amount_minor bigint, currency text,
                     balance_minor bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_payment wallet.transfers%ROWTYPE;
        v_refund bigint;
        v_revenue_account bigint;
        v_revenue_balance bigint;
        v_fan_account bigint;
        v_fan_balance bigint;
      BEGIN
        SELECT t.* INTO v_payment FROM wallet.transfers t
        WHERE t.kind = 'payment' AND t.order_id = p_order;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'not_paid'::text, NULL::text, 0::bigint, NULL::text, 0::bigint;
          RETURN;
        END IF;
        -- Lock 1: the refund's key. A second refund of the order waits here for this one.
        INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
        VALUES ('refund', v_payment.fan_id, v_payment.currency, v_payment.amount_minor, p_order,
                v_payment.drop_id)
        ON CONFLICT (order_id) WHERE kind = 'refund' DO NOTHING
        RETURNING id INTO v_refund;
        IF v_refund IS NULL THEN
          RETURN QUERY SELECT 'already'::text, v_payment.fan_id, v_payment.amount_minor,
            v_payment.currency,
            (SELECT e.balance_after_minor FROM wallet.transfers t
               JOIN wallet.entries e ON e.transfer_id = t.id AND e.amount_minor > 0
               JOIN wallet.accounts a ON a.id = e.account_id AND a.kind = 'fan'
             WHERE t.kind = 'refund' AND t.order_id = p_order);
          RETURN;
        END IF;
        -- The revenue shard the payment credited: the refund takes the money back from there,
        -- which always holds it (only a refund of one of its payments takes from a shard).
        SELECT e.account_id INTO v_revenue_account FROM wallet.entries e
          JOIN wallet.accounts a ON a.id = e.account_id AND a.kind = 'revenue'
        WHERE e.transfer_id = v_payment.id;
        -- Lock 2: the fan's account.
        UPDATE wallet.accounts a SET balance_minor = a.balance_minor + v_payment.amount_minor
        WHERE a.kind = 'fan' AND a.owner_id = v_payment.fan_id
          AND a.currency = v_payment.currency AND a.shard = 0
        RETURNING a.id, a.balance_minor INTO v_fan_account, v_fan_balance;
        -- Lock 3: the revenue shard (accounts_not_negative is the backstop).
        UPDATE wallet.accounts a SET balance_minor = a.balance_minor - v_payment.amount_minor
        WHERE a.id = v_revenue_account
        RETURNING a.balance_minor INTO v_revenue_balance;
        INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
        VALUES (v_refund, v_fan_account, v_payment.amount_minor, v_fan_balance),
               (v_refund, v_revenue_account, -v_payment.amount_minor, v_revenue_balance);
        INSERT INTO wallet.outbox (type, version, key, data)
        VALUES ('wallet.refunded', 1, v_payment.fan_id, jsonb_build_object(
          'fanId', v_payment.fan_id, 'orderId', p_order, 'dropId', v_payment.drop_id,
          'amountMinor', v_payment.amount_minor, 'balanceMinor', v_fan_balance));
        RETURN QUERY SELECT 'refunded'::text, v_payment.fan_id, v_payment.amount_minor,
          v_payment.currency, v_fan_balance;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION wallet.refund_order(text)`);
    await q.query(`DROP INDEX wallet.transfers_refund_order`);
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_payment_has_order`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_payment_has_order
        CHECK ((kind = 'payment') = (order_id IS NOT NULL))`);
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_kind_check`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_kind_check
        CHECK (kind IN ('credit', 'payment'))`);
  }
}
