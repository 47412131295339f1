import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group buy (docs/api.md "Campaigns"; apps/wallet/PAYMENTS.md "Group buy"): a group member's
 * payment waits in an ESCROW account until the group completes or fails.
 *
 * - Accounts of kind `escrow`, one per drop (owner = the drop id) and currency, sharded like
 *   revenue (16 shards by order id): per drop, so "escrow equals the sum of the drop's grouped
 *   orders" is one sum, and a group never shares a row lock with another drop's rush.
 * - `wallet.debit_orders` gains `p_escrow boolean[]`: a member's payment is the same fenced,
 *   exactly-once debit as any other (kind `payment`), only credited to the drop's escrow shard.
 * - Completion: `wallet.release_order` moves one member's payment escrow -> the brand's revenue
 *   (kind `group_release`, unique per order) and pays its referral reward from that revenue
 *   shard in the same transaction (kind `referral_reward`, unique per order, as a normal
 *   payment's), so the release is exactly-once by its key and the reward rides on it.
 * - Failure: `wallet.refund_order` refunds from wherever the payment's money is now: the escrow
 *   shard (a failed group's member), the revenue shard a release moved it to (a completed
 *   group's member refunded later by its brand), or the revenue shard the payment credited.
 *   A refund and a release of one order exclude each other (each raises if the other exists);
 *   the group's state machine in Redis never asks for both.
 *
 * LOCK ORDER (PAYMENTS.md "Locks and deadlocks"): fan accounts first (sorted), then system
 * shards in (kind, owner, currency, shard) order: 'escrow' before 'revenue'. The debit batch takes
 * its shards in that one sorted pass; a release takes the referrer's fan account, then its
 * escrow shard, then its revenue shard; a refund its fans, then its one shard (or the brand's
 * revenue shards in shard order, as before). No cycle can form.
 */
export class GroupBuy1766300000000 implements MigrationInterface {
  name = 'GroupBuy1766300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE wallet.accounts DROP CONSTRAINT accounts_kind_check`);
    await q.query(`
      ALTER TABLE wallet.accounts ADD CONSTRAINT accounts_kind_check
        CHECK (kind IN ('fan', 'external', 'revenue', 'escrow'))`);
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_kind_check`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN
        ('credit', 'payment', 'refund', 'referral_reward', 'referral_reward_reversal',
         'revenue_move', 'group_release'))`);
    await q.query(`ALTER TABLE wallet.transfers DROP CONSTRAINT transfers_payment_has_order`);
    await q.query(`
      ALTER TABLE wallet.transfers ADD CONSTRAINT transfers_payment_has_order CHECK (
        (kind IN ('payment', 'refund', 'referral_reward', 'referral_reward_reversal',
                  'revenue_move', 'group_release'))
        = (order_id IS NOT NULL))`);
    await q.query(
      `CREATE UNIQUE INDEX transfers_group_release_order ON wallet.transfers (order_id) WHERE kind = 'group_release'`,
    );

    await q.query(
      `DROP FUNCTION wallet.debit_orders(text[], bigint[], text[], text[], text[], text[], bigint[], int[], text[], bigint[])`,
    );
    // The batch of the referral-rewards migration, each item now saying whether its money goes
    // to the drop's escrow (a group member) or to the brand's revenue. Contract per item unchanged.
    // p_escrow may be left out (a caller of the ten-argument batch, e.g. the bench's floor): no
    // item is then a group member's (a NULL element reads as false everywhere below).
    await q.query(`
      CREATE FUNCTION wallet.debit_orders(
        p_orders text[], p_attempts bigint[], p_fans text[], p_drops text[], p_brands text[],
        p_currencies text[], p_amounts bigint[], p_shards int[], p_referrers text[],
        p_rewards bigint[], p_escrow boolean[] DEFAULT NULL)
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
        v_sh_kind text[];
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

          -- Lock 4: the system shards, each credited with its payments less their rewards: a
          -- group member's payment goes to the drop's escrow (kind 'escrow', owner the drop,
          -- never with a reward: a group's rewards are paid when it completes), every other to
          -- the brand's revenue. One sorted pass over (kind, owner, currency, shard): escrow
          -- shards before revenue shards, the order wallet.release_order takes them in too.
          WITH u AS (
            INSERT INTO wallet.accounts AS a (kind, owner_id, currency, shard, balance_minor)
            SELECT CASE WHEN p_escrow[s] THEN 'escrow' ELSE 'revenue' END,
                   CASE WHEN p_escrow[s] THEN p_drops[s] ELSE p_brands[s] END,
                   p_currencies[s], p_shards[s], sum(p_amounts[s] - p_rewards[s])
            FROM generate_subscripts(p_orders, 1) AS s
            WHERE v_state[s] = 'debit'
            GROUP BY 1, 2, p_currencies[s], p_shards[s]
            ORDER BY 1, 2, p_currencies[s], p_shards[s]
            ON CONFLICT (kind, owner_id, currency, shard)
              DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
            RETURNING a.id, a.kind, a.owner_id, a.currency, a.shard, a.balance_minor)
          SELECT array_agg(u.id), array_agg(u.kind), array_agg(u.owner_id),
                 array_agg(u.currency), array_agg(u.shard), array_agg(u.balance_minor)
          INTO v_sh_id, v_sh_kind, v_sh_owner, v_sh_currency, v_sh_shard, v_run
          FROM u;
          FOR v_i IN 1..n LOOP
            CONTINUE WHEN v_state[v_i] IS DISTINCT FROM 'debit';
            FOR v_j IN 1..cardinality(v_sh_id) LOOP
              IF v_sh_kind[v_j] = (CASE WHEN p_escrow[v_i] THEN 'escrow' ELSE 'revenue' END)
                 AND v_sh_owner[v_j]
                     = (CASE WHEN p_escrow[v_i] THEN p_drops[v_i] ELSE p_brands[v_i] END)
                 AND v_sh_currency[v_j] = p_currencies[v_i]
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

    // One group member's release, once: 'released' (this call moved the money), 'already' (an
    // earlier call did), 'not_paid' (no payment to release). The reward (p_reward > 0, to
    // p_referrer, never the payer: the wallet checked) is paid from the revenue shard the
    // release credited, in this transaction, at most once per order.
    await q.query(`
      CREATE FUNCTION wallet.release_order(p_order text, p_brand text, p_referrer text,
                                           p_reward bigint)
      RETURNS TABLE (outcome text)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_payment wallet.transfers%ROWTYPE;
        v_release bigint;
        v_reward bigint;
        v_escrow bigint;
        v_shard int;
        v_ref_account bigint;
        v_ref_balance bigint;
        v_escrow_balance bigint;
        v_revenue bigint;
        v_revenue_balance bigint;
      BEGIN
        SELECT t.* INTO v_payment FROM wallet.transfers t
        WHERE t.kind = 'payment' AND t.order_id = p_order;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'not_paid'::text;
          RETURN;
        END IF;
        SELECT e.account_id, a.shard INTO v_escrow, v_shard FROM wallet.entries e
          JOIN wallet.accounts a ON a.id = e.account_id AND a.kind = 'escrow'
        WHERE e.transfer_id = v_payment.id;
        IF v_escrow IS NULL THEN
          RAISE EXCEPTION 'order % was not paid into escrow', p_order;
        END IF;
        -- Lock 1: the release's key. A second release of the order waits here, then finds it.
        INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
        VALUES ('group_release', v_payment.fan_id, v_payment.currency, v_payment.amount_minor,
                p_order, v_payment.drop_id)
        ON CONFLICT (order_id) WHERE kind = 'group_release' DO NOTHING
        RETURNING id INTO v_release;
        IF v_release IS NULL THEN
          RETURN QUERY SELECT 'already'::text;
          RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM wallet.transfers t
                   WHERE t.kind = 'refund' AND t.order_id = p_order) THEN
          RAISE EXCEPTION 'order % was refunded: its escrow cannot be released', p_order;
        END IF;
        -- Lock 2: the referrer's fan account (created on a first reward).
        IF p_reward > 0 THEN
          INSERT INTO wallet.accounts AS a (kind, owner_id, currency, balance_minor)
          VALUES ('fan', p_referrer, v_payment.currency, 0)
          ON CONFLICT (kind, owner_id, currency, shard)
            DO UPDATE SET balance_minor = a.balance_minor
          RETURNING a.id INTO v_ref_account;
        END IF;
        -- Lock 3: the escrow shard, then (lock 4) the brand's revenue shard of the same number.
        UPDATE wallet.accounts a SET balance_minor = a.balance_minor - v_payment.amount_minor
        WHERE a.id = v_escrow RETURNING a.balance_minor INTO v_escrow_balance;
        INSERT INTO wallet.accounts AS a (kind, owner_id, currency, shard, balance_minor)
        VALUES ('revenue', p_brand, v_payment.currency, v_shard, v_payment.amount_minor)
        ON CONFLICT (kind, owner_id, currency, shard)
          DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
        RETURNING a.id, a.balance_minor INTO v_revenue, v_revenue_balance;
        INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
        VALUES (v_release, v_escrow, -v_payment.amount_minor, v_escrow_balance),
               (v_release, v_revenue, v_payment.amount_minor, v_revenue_balance);
        IF p_reward > 0 THEN
          INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
          VALUES ('referral_reward', p_referrer, v_payment.currency, p_reward, p_order,
                  v_payment.drop_id)
          RETURNING id INTO v_reward;
          UPDATE wallet.accounts a SET balance_minor = a.balance_minor - p_reward
          WHERE a.id = v_revenue RETURNING a.balance_minor INTO v_revenue_balance;
          UPDATE wallet.accounts a SET balance_minor = a.balance_minor + p_reward
          WHERE a.id = v_ref_account RETURNING a.balance_minor INTO v_ref_balance;
          INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
          VALUES (v_reward, v_revenue, -p_reward, v_revenue_balance),
                 (v_reward, v_ref_account, p_reward, v_ref_balance);
        END IF;
        RETURN QUERY SELECT 'released'::text;
      END $$`);

    await q.query(`DROP FUNCTION wallet.refund_order(text)`);
    // The refund of the referral-rewards migration, taking the money from where it is now (see
    // above): the escrow of a failed group's member, or the revenue its release credited.
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

  /** Not reversible: escrow and releases are money history. */
  async down(): Promise<void> {
    throw new Error('GroupBuy1766300000000 is not reversible: escrow is in the ledger');
  }
}
