import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group commit (apps/wallet/PAYMENTS.md "Batches"): the wallet coalesces concurrent debits, and
 * concurrent credits, into ONE call of a batch function (one statement, one transaction, one
 * commit) instead of one call each. Every item still gets exactly the outcome a call of its
 * own would have given; nothing in a batch raises for one item's sake (a decline, a duplicate,
 * a voided attempt are outcomes, not exceptions). The rare errors that remain (a second attempt
 * of an already-paid order, a balance past 2^53) abort the batch, and the wallet then runs its
 * items one by one, so one item can never fail another.
 *
 * LOCK ORDER of a batch (every writer takes its locks class by class, each class in sorted
 * order, so two batches, or a batch and a single call, can never wait for each other in a
 * cycle):
 *   debit batch:  1. fences `payments (order_id, attempt)`, sorted by (order_id, attempt);
 *                 2. fan accounts, sorted by (fan, currency);
 *                 3. `transfers (order_id)` (a unique key), sorted by order_id;
 *                 4. revenue shards, one upsert per distinct (brand, currency, shard), sorted.
 *   credit batch: 1. `transfers (reference)`, sorted by reference;
 *                 2. fan accounts, sorted by (fan, currency);
 *                 3. external funding shards, one upsert per distinct shard, sorted.
 *   settle:       1. one fence.
 * The classes credit and debit batches share are only fan accounts, which both take after
 * their class-1 keys (disjoint: references vs fences) and before their system shards (disjoint:
 * external vs revenue). The wallet puts at most one item per order (debits) or per reference
 * (credits) in a batch, so no batch waits on a key it holds itself.
 *
 * The single-item functions of the first migration stay as they were: each takes at most one
 * key of each class, in the same class order, so they fit this order as they are.
 */
export class LedgerBatches1764100000000 implements MigrationInterface {
  name = 'LedgerBatches1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // A batch of payment attempts: item i is (p_orders[i], p_attempts[i], ...). Returns one
    // row per item: 'debited' | 'declined' | 'voided' and the fan's balance (right after the
    // debit, or now). Contract per item: exactly wallet.debit_order's of the first migration.
    await q.query(`
      CREATE FUNCTION wallet.debit_orders(
        p_orders text[], p_attempts bigint[], p_fans text[], p_drops text[], p_brands text[],
        p_currencies text[], p_amounts bigint[], p_shards int[])
      RETURNS TABLE (item int, outcome text, balance bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        n int := coalesce(cardinality(p_orders), 0);
        -- per item: NULL (an outcome is already recorded), 'fresh', 'debit', 'declined', ...
        v_state text[] := array_fill(NULL::text, ARRAY[n]);
        v_balance bigint[] := array_fill(0::bigint, ARRAY[n]);
        v_fan_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_transfer bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sys_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sys_balance bigint[] := array_fill(NULL::bigint, ARRAY[n]);
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
        -- Lock 1: the fences, in (order, attempt) order. Each is inserted as 'declined' and
        -- becomes 'debited' below only if the money moves; nobody sees it before commit. A
        -- concurrent caller of the same attempt (another batch, a settle) blocks on the key
        -- until this transaction ends, then reads its outcome.
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
            -- Decided before (or by the settle we waited for): answer what was recorded.
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

        -- Lock 2: the fans' accounts, in (fan, currency) order, one guarded UPDATE per item so
        -- two items of one fan are taken one after the other. Not enough money is a recorded
        -- outcome ('declined', the fence row as inserted); the CHECK constraint
        -- accounts_not_negative is the backstop.
        FOR v_i IN
          SELECT s FROM generate_subscripts(p_orders, 1) AS s
          WHERE v_state[s] = 'fresh'
          ORDER BY p_fans[s], p_currencies[s], s
        LOOP
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
          -- Lock 3: one transfer per order (transfers_payment_order). A second attempt of an
          -- order that another attempt debited raises here (unique violation) and aborts the
          -- batch; the wallet then runs the items one by one (the repository).
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

          -- Lock 4: the brands' revenue shards, one upsert per distinct shard, in order.
          WITH u AS (
            INSERT INTO wallet.accounts AS a (kind, owner_id, currency, shard, balance_minor)
            SELECT 'revenue', p_brands[s], p_currencies[s], p_shards[s], sum(p_amounts[s])
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
          -- Each entry's balance_after on its shard: the shard's final balance, less what
          -- later items of this batch added to it.
          FOR v_i IN REVERSE n..1 LOOP
            CONTINUE WHEN v_state[v_i] IS DISTINCT FROM 'debit';
            FOR v_j IN 1..cardinality(v_sh_id) LOOP
              IF v_sh_owner[v_j] = p_brands[v_i] AND v_sh_currency[v_j] = p_currencies[v_i]
                 AND v_sh_shard[v_j] = p_shards[v_i] THEN
                v_k := v_j;
                EXIT;
              END IF;
            END LOOP;
            v_sys_account[v_i] := v_sh_id[v_k];
            v_sys_balance[v_i] := v_run[v_k];
            v_run[v_k] := v_run[v_k] - p_amounts[v_i];
          END LOOP;

          INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
          SELECT v_transfer[s], e.account_id, e.amount_minor, e.balance_after
          FROM generate_subscripts(p_orders, 1) AS s,
               LATERAL (VALUES (1, v_fan_account[s], -p_amounts[s], v_balance[s]),
                               (2, v_sys_account[s], p_amounts[s], v_sys_balance[s]))
                 AS e(k, account_id, amount_minor, balance_after)
          WHERE v_state[s] = 'debit'
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

    // A batch of confirmed top-ups: external funding -> fan, idempotent on each reference.
    // One row per item: created (false: the reference was credited before; its recorded fan,
    // currency and amount are returned so the caller can tell a replay from a reuse) and the
    // fan's balance. Contract per item: exactly wallet.credit's of the first migration.
    await q.query(`
      CREATE FUNCTION wallet.credit_batch(
        p_fans text[], p_currencies text[], p_amounts bigint[], p_references text[],
        p_shards int[])
      RETURNS TABLE (item int, created boolean, fan_id text, currency text, amount_minor bigint,
                     balance bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        n int := coalesce(cardinality(p_fans), 0);
        v_transfer bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_balance bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_fan_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sys_account bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sys_balance bigint[] := array_fill(NULL::bigint, ARRAY[n]);
        v_sh_id bigint[];
        v_sh_currency text[];
        v_sh_shard int[];
        v_run bigint[];
        v_i int;
        v_k int;
        v_id bigint;
        v_bal bigint;
        r record;
      BEGIN
        IF n = 0 THEN RETURN; END IF;
        -- Lock 1: the references, in order. A concurrent credit with the same reference waits
        -- here for this one to commit, then finds its row and moves nothing.
        FOR r IN
          INSERT INTO wallet.transfers AS t (kind, fan_id, currency, amount_minor, reference)
          SELECT 'credit', p_fans[s], p_currencies[s], p_amounts[s], p_references[s]
          FROM generate_subscripts(p_fans, 1) AS s
          ORDER BY p_references[s]
          ON CONFLICT (reference) WHERE kind = 'credit' DO NOTHING
          RETURNING t.id, t.reference
        LOOP
          v_transfer[array_position(p_references, r.reference)] := r.id;
        END LOOP;

        -- Lock 2: the fans' accounts (created on the first credit), in (fan, currency) order.
        FOR v_i IN
          SELECT s FROM generate_subscripts(p_fans, 1) AS s
          WHERE v_transfer[s] IS NOT NULL
          ORDER BY p_fans[s], p_currencies[s], s
        LOOP
          INSERT INTO wallet.accounts AS a (kind, owner_id, currency, balance_minor)
          VALUES ('fan', p_fans[v_i], p_currencies[v_i], p_amounts[v_i])
          ON CONFLICT (kind, owner_id, currency, shard)
            DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
          RETURNING a.id, a.balance_minor INTO v_id, v_bal;
          v_fan_account[v_i] := v_id;
          v_balance[v_i] := v_bal;
        END LOOP;

        IF cardinality(array_remove(v_transfer, NULL)) > 0 THEN
          -- Lock 3: the external funding shards, one upsert per distinct shard, in order.
          WITH u AS (
            INSERT INTO wallet.accounts AS a (kind, owner_id, currency, shard, balance_minor)
            SELECT 'external', 'external', p_currencies[s], p_shards[s], -sum(p_amounts[s])
            FROM generate_subscripts(p_fans, 1) AS s
            WHERE v_transfer[s] IS NOT NULL
            GROUP BY p_currencies[s], p_shards[s]
            ORDER BY p_currencies[s], p_shards[s]
            ON CONFLICT (kind, owner_id, currency, shard)
              DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
            RETURNING a.id, a.currency, a.shard, a.balance_minor)
          SELECT array_agg(u.id), array_agg(u.currency), array_agg(u.shard),
                 array_agg(u.balance_minor)
          INTO v_sh_id, v_sh_currency, v_sh_shard, v_run
          FROM u;
          FOR v_i IN REVERSE n..1 LOOP
            CONTINUE WHEN v_transfer[v_i] IS NULL;
            FOR v_j IN 1..cardinality(v_sh_id) LOOP
              IF v_sh_currency[v_j] = p_currencies[v_i] AND v_sh_shard[v_j] = p_shards[v_i] THEN
                v_k := v_j;
                EXIT;
              END IF;
            END LOOP;
            v_sys_account[v_i] := v_sh_id[v_k];
            v_sys_balance[v_i] := v_run[v_k];
            v_run[v_k] := v_run[v_k] + p_amounts[v_i];
          END LOOP;

          INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
          SELECT v_transfer[s], e.account_id, e.amount_minor, e.balance_after
          FROM generate_subscripts(p_fans, 1) AS s,
               LATERAL (VALUES (1, v_fan_account[s], p_amounts[s], v_balance[s]),
                               (2, v_sys_account[s], -p_amounts[s], v_sys_balance[s]))
                 AS e(k, account_id, amount_minor, balance_after)
          WHERE v_transfer[s] IS NOT NULL
          ORDER BY s, e.k;

          INSERT INTO wallet.outbox (type, version, key, data)
          SELECT 'wallet.credited', 1, p_fans[s], jsonb_build_object(
            'fanId', p_fans[s], 'amountMinor', p_amounts[s], 'reference', p_references[s],
            'balanceMinor', v_balance[s])
          FROM generate_subscripts(p_fans, 1) AS s
          WHERE v_transfer[s] IS NOT NULL
          ORDER BY s;
        END IF;

        RETURN QUERY
          SELECT s, true, p_fans[s], p_currencies[s], p_amounts[s], v_balance[s]
          FROM generate_subscripts(p_fans, 1) AS s
          WHERE v_transfer[s] IS NOT NULL
          UNION ALL
          SELECT s, false, t.fan_id, t.currency, t.amount_minor,
                 COALESCE((SELECT a.balance_minor FROM wallet.accounts a
                           WHERE a.kind = 'fan' AND a.owner_id = t.fan_id
                             AND a.currency = t.currency AND a.shard = 0), 0)
          FROM generate_subscripts(p_fans, 1) AS s
          JOIN wallet.transfers t ON t.kind = 'credit' AND t.reference = p_references[s]
          WHERE v_transfer[s] IS NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION wallet.debit_orders(text[], bigint[], text[], text[], text[], text[], bigint[], int[])`,
    );
    await q.query(`DROP FUNCTION wallet.credit_batch(text[], text[], bigint[], text[], int[])`);
  }
}
