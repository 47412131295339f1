import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Referral rewards (docs/api.md "Campaigns"; apps/wallet/PAYMENTS.md "Referral rewards").
 *
 * A reward is a transfer of its own, kind `referral_reward`: from the revenue shard the order's
 * payment credited to the referrer's fan account, written by `wallet.debit_orders` in the SAME
 * transaction as the payment, at most one per order (unique index). Chosen over the outbox: the
 * payment's fence (`payments (order_id, attempt)`) already makes the debit exactly-once, so the
 * reward rides on it with no second idempotency mechanism, no moment where an order is paid and
 * its reward not yet, and no relay that could crash between the two.
 *
 * A refund takes the reward back by a reversing transfer, kind `referral_reward_reversal`
 * (referrer -> the same shard), for as much as the referrer still holds; what they had spent is
 * borne by the brand and written on the refund transfer (`reward_unrecovered_minor`), so the
 * audit can report it. A reversal of 0 writes no transfer (every transfer moves money).
 * The refund still gives the fan the whole payment from the payment's shard; when a spent reward
 * left that shard short, the missing part first moves there from the brand's other shards of the
 * currency (kind `revenue_move`, one per shard it takes from, lowest shard first), so a refund
 * fails only when the brand's whole revenue in that currency cannot pay it.
 *
 * LOCK ORDER (PAYMENTS.md "Locks and deadlocks"), classes as in the ledger-batches migration:
 *   debit batch: 1. fences; 2. fan accounts, payers' AND referrers' together, sorted by
 *                (owner, currency) (a referrer's account is created here on their first reward);
 *                3. `transfers (order_id)` of the payments, then of the rewards, by order_id;
 *                4. revenue shards, sorted. The referrers' balances are credited after 4, but
 *                their rows were locked in 2, so no lock is taken out of order.
 *   refund:      1. the refund's key; 2. the payer's and the referrer's accounts, sorted by
 *                owner; 3. the payment's shard, or, when a reward was not taken back in full,
 *                every revenue shard of the brand in the currency, in shard order.
 * Fan accounts before system shards everywhere, each class sorted: no cycle can form.
 */
export class ReferralRewards1766200000000 implements MigrationInterface {
  name = 'ReferralRewards1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_kind_check`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN
        ('credit', 'payment', 'refund', 'referral_reward', 'referral_reward_reversal',
         'revenue_move'))`);
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_payment_has_order`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_payment_has_order CHECK (
        (kind IN ('payment', 'refund', 'referral_reward', 'referral_reward_reversal',
                  'revenue_move'))
        = (order_id IS NOT NULL))`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD COLUMN reward_unrecovered_minor bigint
        CHECK (reward_unrecovered_minor IS NULL
               OR (reward_unrecovered_minor >= 0 AND kind = 'refund'))`);
    await q.query(
      `CREATE UNIQUE INDEX transfers_reward_order ON wallet.transfers (order_id) WHERE kind = 'referral_reward'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX transfers_reward_reversal_order ON wallet.transfers (order_id) WHERE kind = 'referral_reward_reversal'`,
    );

    await q.query(
      `DROP FUNCTION wallet.debit_orders(text[], bigint[], text[], text[], text[], text[], bigint[], int[])`,
    );
    // The batch of payment attempts of the ledger-batches migration, each item now with its
    // referral reward (p_referrers[i] '' and p_rewards[i] 0: none; the wallet checked that a
    // reward is at most the amount and never the payer's own). Contract per item unchanged, plus:
    // a debited item with a reward also moves the reward, in this transaction, once.
    await q.query(`
      CREATE FUNCTION wallet.debit_orders(
        p_orders text[], p_attempts bigint[], p_fans text[], p_drops text[], p_brands text[],
        p_currencies text[], p_amounts bigint[], p_shards int[], p_referrers text[],
        p_rewards bigint[])
      RETURNS TABLE (item int, outcome text, balance bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        n int := coalesce(cardinality(p_orders), 0);
        v_state text[] := array_fill(NULL::text, ARRAY[n]);
        v_balance bigint[] := array_fill(0::bigint, ARRAY[n]);
        v_fan_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_transfer bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sys_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sys_balance bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_shard_of bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        -- the reward of item i: the referrer's account, its balance after, the transfer, and
        -- the shard's balance right after the reward's entry
        v_ref_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_ref_balance bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_reward_transfer bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_reward_sys_balance bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_fresh text[];
        v_sh_id bigint[];
        v_sh_owner text[];
        v_sh_currency text[];
        v_sh_shard int[];
        v_run bigint[];
        v_i int;
        v_k int;
        v_id bigint;
        v_bal bigint;
        v_status text;
        r record;
      BEGIN
        IF n = 0 THEN RETURN; END IF;
        -- Lock 1: the fences, as before.
        WITH ins AS (
          INSERT INTO wallet.payments AS p
            (order_id, attempt, status, fan_id, drop_id, amount_minor, currency)
          SELECT p_orders[s], p_attempts[s], 'declined', p_fans[s], p_drops[s], p_amounts[s],
                 p_currencies[s]
          FROM generate_subscripts(p_orders, 1) AS s
          ORDER BY p_orders[s], p_attempts[s]
          ON CONFLICT (order_id, attempt) DO NOTHING
          RETURNING p.order_id)
        SELECT array_agg(ins.order_id) INTO v_fresh FROM ins;
        FOR v_i IN 1..n LOOP
          IF p_orders[v_i] = ANY (v_fresh) THEN
            v_state[v_i] := 'fresh';
          ELSE
            SELECT p.status, COALESCE(
                (SELECT e.balance_after_minor FROM wallet.entries e
                 WHERE e.transfer_id = p.transfer_id AND e.amount_minor < 0),
                (SELECT a.balance_minor FROM wallet.accounts a
                 WHERE a.kind = 'fan' AND a.owner_id = p_fans[v_i]
                   AND a.currency = p_currencies[v_i] AND a.shard = 0), 0)
            INTO v_status, v_bal
            FROM wallet.payments p
            WHERE p.order_id = p_orders[v_i] AND p.attempt = p_attempts[v_i];
            v_state[v_i] := v_status;
            v_balance[v_i] := v_bal;
          END IF;
        END LOOP;

        -- Lock 2: every fan account of the batch, payers' and referrers' in one sorted pass
        -- (owner, currency), so a fan who pays in one item and is rewarded in another, or two
        -- batches that share fans either way, take them in the same order. A payer's account is
        -- debited here (guarded: not enough money is a 'declined' outcome); a referrer's is only
        -- locked (and created on a first reward), and credited after the shards below.
        FOR r IN
          SELECT u.s, u.is_ref FROM (
            SELECT s, false AS is_ref, p_fans[s] AS owner, p_currencies[s] AS cur
            FROM generate_subscripts(p_orders, 1) AS s WHERE v_state[s] = 'fresh'
            UNION ALL
            SELECT s, true, p_referrers[s], p_currencies[s]
            FROM generate_subscripts(p_orders, 1) AS s
            WHERE v_state[s] = 'fresh' AND p_rewards[s] > 0) u
          ORDER BY u.owner, u.cur, u.is_ref, u.s
        LOOP
          v_i := r.s;
          IF r.is_ref THEN
            INSERT INTO wallet.accounts AS a (kind, owner_id, currency, balance_minor)
            VALUES ('fan', p_referrers[v_i], p_currencies[v_i], 0)
            ON CONFLICT (kind, owner_id, currency, shard)
              DO UPDATE SET balance_minor = a.balance_minor
            RETURNING a.id INTO v_id;
            v_ref_account[v_i] := v_id;
            CONTINUE;
          END IF;
          v_id := NULL;
          UPDATE wallet.accounts a SET balance_minor = a.balance_minor - p_amounts[v_i]
          WHERE a.kind = 'fan' AND a.owner_id = p_fans[v_i] AND a.currency = p_currencies[v_i]
            AND a.shard = 0 AND a.balance_minor >= p_amounts[v_i]
          RETURNING a.id, a.balance_minor INTO v_id, v_bal;
          IF v_id IS NULL THEN
            v_state[v_i] := 'declined';
            v_balance[v_i] := COALESCE(
              (SELECT a.balance_minor FROM wallet.accounts a
               WHERE a.kind = 'fan' AND a.owner_id = p_fans[v_i]
                 AND a.currency = p_currencies[v_i] AND a.shard = 0), 0);
          ELSE
            v_state[v_i] := 'debit';
            v_fan_account[v_i] := v_id;
            v_balance[v_i] := v_bal;
          END IF;
        END LOOP;

        IF 'debit' = ANY (v_state) THEN
          -- Lock 3: one payment transfer per order (a second attempt of a debited order raises
          -- here and the wallet runs the items alone), then one reward transfer per order: its
          -- key can only be new when the payment's was, so the reward is as exactly-once as
          -- the payment.
          FOR r IN
            INSERT INTO wallet.transfers AS t
              (kind, fan_id, currency, amount_minor, order_id, drop_id)
            SELECT 'payment', p_fans[s], p_currencies[s], p_amounts[s], p_orders[s], p_drops[s]
            FROM generate_subscripts(p_orders, 1) AS s
            WHERE v_state[s] = 'debit'
            ORDER BY p_orders[s]
            RETURNING t.id, t.order_id
          LOOP
            v_transfer[array_position(p_orders, r.order_id)] := r.id;
          END LOOP;
          FOR r IN
            INSERT INTO wallet.transfers AS t
              (kind, fan_id, currency, amount_minor, order_id, drop_id)
            SELECT 'referral_reward', p_referrers[s], p_currencies[s], p_rewards[s], p_orders[s],
                   p_drops[s]
            FROM generate_subscripts(p_orders, 1) AS s
            WHERE v_state[s] = 'debit' AND p_rewards[s] > 0
            ORDER BY p_orders[s]
            RETURNING t.id, t.order_id
          LOOP
            v_reward_transfer[array_position(p_orders, r.order_id)] := r.id;
          END LOOP;

          -- Lock 4: the revenue shards, each credited with its payments less their rewards.
          WITH u AS (
            INSERT INTO wallet.accounts AS a (kind, owner_id, currency, shard, balance_minor)
            SELECT 'revenue', p_brands[s], p_currencies[s], p_shards[s],
                   sum(p_amounts[s] - p_rewards[s])
            FROM generate_subscripts(p_orders, 1) AS s
            WHERE v_state[s] = 'debit'
            GROUP BY p_brands[s], p_currencies[s], p_shards[s]
            ORDER BY p_brands[s], p_currencies[s], p_shards[s]
            ON CONFLICT (kind, owner_id, currency, shard)
              DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
            RETURNING a.id, a.owner_id, a.currency, a.shard, a.balance_minor)
          SELECT array_agg(u.id), array_agg(u.owner_id), array_agg(u.currency),
                 array_agg(u.shard), array_agg(u.balance_minor)
          INTO v_sh_id, v_sh_owner, v_sh_currency, v_sh_shard, v_run
          FROM u;
          FOR v_i IN 1..n LOOP
            CONTINUE WHEN v_state[v_i] IS DISTINCT FROM 'debit';
            FOR v_j IN 1..cardinality(v_sh_id) LOOP
              IF v_sh_owner[v_j] = p_brands[v_i] AND v_sh_currency[v_j] = p_currencies[v_i]
                 AND v_sh_shard[v_j] = p_shards[v_i] THEN
                v_shard_of[v_i] := v_j;
                EXIT;
              END IF;
            END LOOP;
            v_sys_account[v_i] := v_sh_id[v_shard_of[v_i]];
          END LOOP;
          -- Each entry's balance_after on its shard, the entries taken as they are written
          -- below (every payment's, then every reward's): walking back from the final balance,
          -- first over the rewards, then over the payments.
          FOR v_i IN REVERSE n..1 LOOP
            CONTINUE WHEN v_state[v_i] IS DISTINCT FROM 'debit' OR p_rewards[v_i] = 0;
            v_k := v_shard_of[v_i];
            v_reward_sys_balance[v_i] := v_run[v_k];
            v_run[v_k] := v_run[v_k] + p_rewards[v_i];
          END LOOP;
          FOR v_i IN REVERSE n..1 LOOP
            CONTINUE WHEN v_state[v_i] IS DISTINCT FROM 'debit';
            v_k := v_shard_of[v_i];
            v_sys_balance[v_i] := v_run[v_k];
            v_run[v_k] := v_run[v_k] - p_amounts[v_i];
          END LOOP;

          -- The referrers' credits: their rows are this transaction's since lock 2.
          FOR v_i IN 1..n LOOP
            CONTINUE WHEN v_state[v_i] IS DISTINCT FROM 'debit' OR p_rewards[v_i] = 0;
            UPDATE wallet.accounts a SET balance_minor = a.balance_minor + p_rewards[v_i]
            WHERE a.id = v_ref_account[v_i]
            RETURNING a.balance_minor INTO v_bal;
            v_ref_balance[v_i] := v_bal;
          END LOOP;

          INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
          SELECT v_transfer[s], e.account_id, e.amount_minor, e.balance_after
          FROM generate_subscripts(p_orders, 1) AS s,
               LATERAL (VALUES (1, v_fan_account[s], -p_amounts[s], v_balance[s]),
                               (2, v_sys_account[s], p_amounts[s], v_sys_balance[s]))
                 AS e(k, account_id, amount_minor, balance_after)
          WHERE v_state[s] = 'debit'
          ORDER BY s, e.k;
          INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
          SELECT v_reward_transfer[s], e.account_id, e.amount_minor, e.balance_after
          FROM generate_subscripts(p_orders, 1) AS s,
               LATERAL (VALUES (1, v_sys_account[s], -p_rewards[s], v_reward_sys_balance[s]),
                               (2, v_ref_account[s], p_rewards[s], v_ref_balance[s]))
                 AS e(k, account_id, amount_minor, balance_after)
          WHERE v_state[s] = 'debit' AND p_rewards[s] > 0
          ORDER BY s, e.k;

          UPDATE wallet.payments p SET status = 'debited', transfer_id = v_transfer[s]
          FROM generate_subscripts(p_orders, 1) AS s
          WHERE v_state[s] = 'debit' AND p.order_id = p_orders[s] AND p.attempt = p_attempts[s];

          INSERT INTO wallet.outbox (type, version, key, data)
          SELECT 'wallet.debited', 1, p_fans[s], jsonb_build_object(
            'fanId', p_fans[s], 'orderId', p_orders[s], 'dropId', p_drops[s],
            'amountMinor', p_amounts[s], 'balanceMinor', v_balance[s])
          FROM generate_subscripts(p_orders, 1) AS s
          WHERE v_state[s] = 'debit'
          ORDER BY s;
        END IF;

        RETURN QUERY
          SELECT s, CASE v_state[s] WHEN 'debit' THEN 'debited' ELSE v_state[s] END, v_balance[s]
          FROM generate_subscripts(p_orders, 1) AS s;
      END $$`);

    await q.query(`DROP FUNCTION wallet.refund_order(text)`);
    // The refund of the refunds migration, now also reversing the order's referral reward:
    // reward_reversed_minor went back from the referrer to the shard (at most what they hold),
    // reward_unrecovered_minor (the rest) the brand bears; both 0 without a reward.
    await q.query(`
      CREATE FUNCTION wallet.refund_order(p_order text)
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
        r record;
      BEGIN
        SELECT t.* INTO v_payment FROM wallet.transfers t
        WHERE t.kind = 'payment' AND t.order_id = p_order;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'not_paid'::text, NULL::text, 0::bigint, NULL::text, 0::bigint,
            0::bigint, 0::bigint;
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
             WHERE t.kind = 'refund' AND t.order_id = p_order),
            COALESCE((SELECT t.amount_minor FROM wallet.transfers t
                      WHERE t.kind = 'referral_reward_reversal' AND t.order_id = p_order), 0),
            COALESCE((SELECT t.reward_unrecovered_minor FROM wallet.transfers t
                      WHERE t.kind = 'refund' AND t.order_id = p_order), 0);
          RETURN;
        END IF;
        SELECT e.account_id INTO v_revenue_account FROM wallet.entries e
          JOIN wallet.accounts a ON a.id = e.account_id AND a.kind = 'revenue'
        WHERE e.transfer_id = v_payment.id;
        SELECT t.* INTO v_reward FROM wallet.transfers t
        WHERE t.kind = 'referral_reward' AND t.order_id = p_order;
        IF FOUND THEN
          SELECT e.account_id INTO v_ref_account FROM wallet.entries e
          WHERE e.transfer_id = v_reward.id AND e.amount_minor > 0;
        END IF;
        -- Lock 2: the payer's account and the referrer's (when the order paid a reward), in
        -- owner order; then the fan gets the payment back and the referrer gives the reward
        -- back, as far as their balance goes.
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
        -- Lock 3: the payment's shard. When the referrer could not give the whole reward back,
        -- that shard may lack part of the payment: then every revenue shard of the brand in the
        -- currency is locked, in shard order (the order debit batches take them in), and what
        -- the payment's shard lacks moves there from the others, lowest shard first, one
        -- revenue_move transfer each. accounts_not_negative stays the backstop: a brand whose
        -- whole revenue cannot pay the refund fails it (it stays refunding, logged).
        IF v_reward.id IS NOT NULL AND v_back < v_reward.amount_minor THEN
          SELECT a.owner_id INTO v_brand FROM wallet.accounts a WHERE a.id = v_revenue_account;
          FOR r IN
            SELECT a.id, a.balance_minor FROM wallet.accounts a
            WHERE a.kind = 'revenue' AND a.owner_id = v_brand
              AND a.currency = v_payment.currency
            ORDER BY a.shard
            FOR UPDATE
          LOOP
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
            INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
            VALUES ('revenue_move', v_brand, v_payment.currency, v_take, p_order,
                    v_payment.drop_id)
            RETURNING id INTO v_move;
            INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
            VALUES (v_move, r.id, -v_take, v_from_balance),
                   (v_move, v_revenue_account, v_take, v_to_balance);
            v_short := v_short - v_take;
          END LOOP;
        END IF;
        -- The reversal in, the refund out.
        UPDATE wallet.accounts a
        SET balance_minor = a.balance_minor + v_back - v_payment.amount_minor
        WHERE a.id = v_revenue_account
        RETURNING a.balance_minor INTO v_revenue_balance;
        IF v_reward.id IS NOT NULL THEN
          UPDATE wallet.transfers t SET reward_unrecovered_minor = v_reward.amount_minor - v_back
          WHERE t.id = v_refund;
        END IF;
        IF v_back > 0 THEN
          INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
          VALUES ('referral_reward_reversal', v_reward.fan_id, v_payment.currency, v_back,
                  p_order, v_payment.drop_id)
          RETURNING id INTO v_reversal;
          INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
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
        RETURN QUERY SELECT 'refunded'::text, v_payment.fan_id, v_payment.amount_minor,
          v_payment.currency, v_fan_balance, v_back,
          CASE WHEN v_reward.id IS NULL THEN 0::bigint ELSE v_reward.amount_minor - v_back END;
      END $$`);
  }

  /** Not reversible: reward transfers are money history, and the functions before them would
   * leave rewarded orders' refunds without their reversals. */
  async down(): Promise<void> {
    throw new Error('ReferralRewards1766200000000 is not reversible: rewards are in the ledger');
  }
}
