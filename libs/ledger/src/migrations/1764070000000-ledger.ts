import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The double-entry ledger, the payments fence and the outbox (apps/wallet/PAYMENTS.md).
 *
 * Every write goes through one of the three functions below, each a single round trip and a
 * single transaction: `wallet.credit`, `wallet.debit_order`, `wallet.settle_order`.
 *
 * LOCK ORDER (every writer, so no two transactions can wait for each other in a cycle):
 *   1. the idempotency key row: `transfers` (reference) for a credit, `payments`
 *      (order_id, attempt) for a debit or a settle; concurrent callers with the same key block
 *      here until the first commits, then read its outcome;
 *   2. at most ONE fan account;
 *   3. at most ONE system account shard (external funding or a brand's revenue).
 * No transaction ever locks a system account before a fan account, or two fan accounts.
 *
 * Money is bigint minor units. Sign convention of entries: positive adds to the account's
 * balance. Every transfer has exactly two entries summing to zero, so the sum of all balances is
 * always zero: the external funding accounts (the only ones allowed below zero) mirror exactly
 * what came in from outside.
 */
export class Ledger1764070000000 implements MigrationInterface {
  name = 'Ledger1764070000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE wallet.accounts (
        id            bigserial PRIMARY KEY,
        kind          text NOT NULL CHECK (kind IN ('fan', 'external', 'revenue')),
        -- the fan id, the brand id, or 'external'
        owner_id      text NOT NULL,
        currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        -- system accounts are split into shards so thousands of payments per second do not
        -- queue on one hot row; an owner's balance is the sum of its shards
        shard         smallint NOT NULL DEFAULT 0 CHECK (shard >= 0),
        balance_minor bigint NOT NULL DEFAULT 0,
        created_at    timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounts_owner_unique UNIQUE (kind, owner_id, currency, shard),
        CONSTRAINT accounts_fan_one_shard CHECK (kind <> 'fan' OR shard = 0),
        -- the database, not only the code, keeps every balance but the external one >= 0
        CONSTRAINT accounts_not_negative CHECK (kind = 'external' OR balance_minor >= 0),
        -- JavaScript numbers are exact up to 2^53 - 1
        CONSTRAINT accounts_balance_safe
          CHECK (balance_minor BETWEEN -9007199254740991 AND 9007199254740991)
      )`);

    await q.query(`
      CREATE TABLE wallet.transfers (
        id           bigserial PRIMARY KEY,
        kind         text NOT NULL CHECK (kind IN ('credit', 'payment')),
        fan_id       text NOT NULL,
        currency     text NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        reference    text,
        order_id     text,
        drop_id      text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT transfers_credit_has_reference CHECK ((kind = 'credit') = (reference IS NOT NULL)),
        CONSTRAINT transfers_payment_has_order CHECK ((kind = 'payment') = (order_id IS NOT NULL))
      )`);
    // A credit reference moves money once; an order is paid by at most one transfer.
    await q.query(
      `CREATE UNIQUE INDEX transfers_credit_reference ON wallet.transfers (reference) WHERE kind = 'credit'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX transfers_payment_order ON wallet.transfers (order_id) WHERE kind = 'payment'`,
    );

    await q.query(`
      CREATE TABLE wallet.entries (
        id                  bigserial PRIMARY KEY,
        transfer_id         bigint NOT NULL REFERENCES wallet.transfers (id),
        account_id          bigint NOT NULL REFERENCES wallet.accounts (id),
        amount_minor        bigint NOT NULL CHECK (amount_minor <> 0),
        balance_after_minor bigint NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX entries_account ON wallet.entries (account_id, id)`);
    await q.query(`CREATE INDEX entries_transfer ON wallet.entries (transfer_id)`);

    // The fence: one row per payment attempt of an order, written first in its transaction.
    await q.query(`
      CREATE TABLE wallet.payments (
        order_id     text NOT NULL,
        attempt      bigint NOT NULL,
        status       text NOT NULL CHECK (status IN ('debited', 'declined', 'voided')),
        fan_id       text,
        drop_id      text,
        amount_minor bigint,
        currency     text,
        transfer_id  bigint REFERENCES wallet.transfers (id),
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, attempt),
        CONSTRAINT payments_debit_has_transfer CHECK ((status = 'debited') = (transfer_id IS NOT NULL))
      )`);
    // However many attempts an order sees, at most one of them is ever debited.
    await q.query(
      `CREATE UNIQUE INDEX payments_one_debit ON wallet.payments (order_id) WHERE status = 'debited'`,
    );

    // Written in the same transaction as the change it reports; the events relay publishes it
    // to Kafka (Topics.wallet, key = fan id) and sets published_at.
    await q.query(`
      CREATE TABLE wallet.outbox (
        id           bigserial PRIMARY KEY,
        event_id     uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
        type         text NOT NULL,
        version      int NOT NULL,
        key          text NOT NULL,
        occurred_at  timestamptz NOT NULL DEFAULT now(),
        data         jsonb NOT NULL,
        published_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX outbox_unpublished ON wallet.outbox (id) WHERE published_at IS NULL`,
    );

    // Adds delta to a system account shard, creating it on first use; returns (id, balance).
    await q.query(`
      CREATE FUNCTION wallet.add_to_system(
        p_kind text, p_owner text, p_currency text, p_shard int, p_delta bigint,
        OUT account_id bigint, OUT balance_minor bigint)
      LANGUAGE sql AS $$
        INSERT INTO wallet.accounts AS a (kind, owner_id, currency, shard, balance_minor)
        VALUES (p_kind, p_owner, p_currency, p_shard, p_delta)
        ON CONFLICT (kind, owner_id, currency, shard)
          DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
        RETURNING a.id, a.balance_minor
      $$`);

    // A confirmed top-up from outside: external funding -> fan. Idempotent on the reference.
    await q.query(`
      CREATE FUNCTION wallet.credit(
        p_fan text, p_currency text, p_amount bigint, p_reference text, p_shard int)
      RETURNS TABLE (created boolean, fan_id text, currency text, amount_minor bigint,
                     balance_minor bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_transfer bigint;
        v_fan_account bigint;
        v_fan_balance bigint;
        v_system_account bigint;
        v_system_balance bigint;
      BEGIN
        -- Lock 1: the reference. A concurrent credit with the same reference waits here for
        -- this one to commit, then finds its row and moves nothing.
        INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, reference)
        VALUES ('credit', p_fan, p_currency, p_amount, p_reference)
        ON CONFLICT (reference) WHERE kind = 'credit' DO NOTHING
        RETURNING id INTO v_transfer;
        IF v_transfer IS NULL THEN
          RETURN QUERY
            SELECT false, t.fan_id, t.currency, t.amount_minor,
                   COALESCE((SELECT a.balance_minor FROM wallet.accounts a
                             WHERE a.kind = 'fan' AND a.owner_id = t.fan_id
                               AND a.currency = t.currency AND a.shard = 0), 0)
            FROM wallet.transfers t WHERE t.kind = 'credit' AND t.reference = p_reference;
          RETURN;
        END IF;
        -- Lock 2: the fan's account (created on the first credit).
        INSERT INTO wallet.accounts AS a (kind, owner_id, currency, balance_minor)
        VALUES ('fan', p_fan, p_currency, p_amount)
        ON CONFLICT (kind, owner_id, currency, shard)
          DO UPDATE SET balance_minor = a.balance_minor + EXCLUDED.balance_minor
        RETURNING a.id, a.balance_minor INTO v_fan_account, v_fan_balance;
        -- Lock 3: one shard of the external funding account.
        SELECT * INTO v_system_account, v_system_balance
        FROM wallet.add_to_system('external', 'external', p_currency, p_shard, -p_amount);
        INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
        VALUES (v_transfer, v_fan_account, p_amount, v_fan_balance),
               (v_transfer, v_system_account, -p_amount, v_system_balance);
        INSERT INTO wallet.outbox (type, version, key, data)
        VALUES ('wallet.credited', 1, p_fan, jsonb_build_object(
          'fanId', p_fan, 'amountMinor', p_amount, 'reference', p_reference,
          'balanceMinor', v_fan_balance));
        RETURN QUERY SELECT true, p_fan, p_currency, p_amount, v_fan_balance;
      END $$`);

    // One payment attempt of an order: fan -> one shard of the brand's revenue. Decided once
    // per (order, attempt): debited, declined (not enough money) or, when settle_order got
    // there first, voided. Every later or concurrent call answers the recorded outcome.
    await q.query(`
      CREATE FUNCTION wallet.debit_order(
        p_order text, p_attempt bigint, p_fan text, p_drop text, p_brand text,
        p_currency text, p_amount bigint, p_shard int)
      RETURNS TABLE (created boolean, outcome text, balance_minor bigint)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_inserted boolean;
        v_status text;
        v_fan_account bigint;
        v_fan_balance bigint;
        v_transfer bigint;
        v_system_account bigint;
        v_system_balance bigint;
      BEGIN
        -- Lock 1: the fence row. Inserted as 'declined' and turned into 'debited' below only
        -- if the money moves; nobody else sees it before commit. A concurrent caller for the
        -- same attempt blocks on the primary key until this transaction ends.
        INSERT INTO wallet.payments (order_id, attempt, status, fan_id, drop_id, amount_minor, currency)
        VALUES (p_order, p_attempt, 'declined', p_fan, p_drop, p_amount, p_currency)
        ON CONFLICT (order_id, attempt) DO NOTHING
        RETURNING true INTO v_inserted;
        IF v_inserted IS NULL THEN
          SELECT p.status INTO v_status FROM wallet.payments p
          WHERE p.order_id = p_order AND p.attempt = p_attempt;
          RETURN QUERY SELECT false, v_status, COALESCE(
            (SELECT e.balance_after_minor FROM wallet.payments p
               JOIN wallet.entries e ON e.transfer_id = p.transfer_id AND e.amount_minor < 0
             WHERE p.order_id = p_order AND p.attempt = p_attempt),
            (SELECT a.balance_minor FROM wallet.accounts a
             WHERE a.kind = 'fan' AND a.owner_id = p_fan AND a.currency = p_currency), 0);
          RETURN;
        END IF;
        -- Lock 2: the fan's account. The guard turns "not enough money" into a recorded
        -- outcome; the CHECK constraint accounts_not_negative is the backstop.
        UPDATE wallet.accounts a SET balance_minor = a.balance_minor - p_amount
        WHERE a.kind = 'fan' AND a.owner_id = p_fan AND a.currency = p_currency AND a.shard = 0
          AND a.balance_minor >= p_amount
        RETURNING a.id, a.balance_minor INTO v_fan_account, v_fan_balance;
        IF v_fan_account IS NULL THEN
          RETURN QUERY SELECT true, 'declined'::text, COALESCE(
            (SELECT a.balance_minor FROM wallet.accounts a
             WHERE a.kind = 'fan' AND a.owner_id = p_fan AND a.currency = p_currency), 0);
          RETURN;
        END IF;
        INSERT INTO wallet.transfers (kind, fan_id, currency, amount_minor, order_id, drop_id)
        VALUES ('payment', p_fan, p_currency, p_amount, p_order, p_drop)
        RETURNING id INTO v_transfer;
        -- Lock 3: one shard of the brand's revenue account.
        SELECT * INTO v_system_account, v_system_balance
        FROM wallet.add_to_system('revenue', p_brand, p_currency, p_shard, p_amount);
        INSERT INTO wallet.entries (transfer_id, account_id, amount_minor, balance_after_minor)
        VALUES (v_transfer, v_fan_account, -p_amount, v_fan_balance),
               (v_transfer, v_system_account, p_amount, v_system_balance);
        UPDATE wallet.payments p SET status = 'debited', transfer_id = v_transfer
        WHERE p.order_id = p_order AND p.attempt = p_attempt;
        INSERT INTO wallet.outbox (type, version, key, data)
        VALUES ('wallet.debited', 1, p_fan, jsonb_build_object(
          'fanId', p_fan, 'orderId', p_order, 'dropId', p_drop, 'amountMinor', p_amount,
          'balanceMinor', v_fan_balance));
        RETURN QUERY SELECT true, 'debited'::text, v_fan_balance;
      END $$`);

    // The recovery job's question for an attempt stuck in 'paying': was it debited? If no
    // outcome is recorded yet, record 'voided' now, so a debit still on its way for this
    // attempt finds the fence and moves nothing.
    await q.query(`
      CREATE FUNCTION wallet.settle_order(p_order text, p_attempt bigint)
      RETURNS text
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_status text;
      BEGIN
        IF EXISTS (SELECT 1 FROM wallet.payments p
                   WHERE p.order_id = p_order AND p.status = 'debited') THEN
          RETURN 'debited';
        END IF;
        INSERT INTO wallet.payments (order_id, attempt, status)
        VALUES (p_order, p_attempt, 'voided')
        ON CONFLICT (order_id, attempt) DO NOTHING;
        SELECT p.status INTO v_status FROM wallet.payments p
        WHERE p.order_id = p_order AND p.attempt = p_attempt;
        RETURN v_status;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION wallet.settle_order(text, bigint)`);
    await q.query(
      `DROP FUNCTION wallet.debit_order(text, bigint, text, text, text, text, bigint, int)`,
    );
    await q.query(`DROP FUNCTION wallet.credit(text, text, bigint, text, int)`);
    await q.query(`DROP FUNCTION wallet.add_to_system(text, text, text, int, bigint)`);
    await q.query(`DROP TABLE wallet.outbox`);
    await q.query(`DROP TABLE wallet.payments`);
    await q.query(`DROP TABLE wallet.entries`);
    await q.query(`DROP TABLE wallet.transfers`);
    await q.query(`DROP TABLE wallet.accounts`);
  }
}
