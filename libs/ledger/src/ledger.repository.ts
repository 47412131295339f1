import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import {
  CreditReply,
  CreditRequest,
  DebitReply,
  DebitRequest,
  DomainError,
  PaymentOutcome,
  RefundOutcome,
  RefundReply,
  RefundRequest,
  ReleaseReply,
  ReleaseRequest,
  SettleReply,
  SettleRequest,
  TransactionsReply,
  TransactionsRequest,
  WalletTransaction,
} from '@flashdrop/contracts';
import { toSafeNumber } from '@flashdrop/persistence';
import {
  CREDIT_BATCH_SQL,
  creditBatchParams,
  DEBIT_ORDERS_SQL,
  debitOrdersParams,
} from './batch-calls';
import { GroupCommit, ItemResult } from './group-commit';

/**
 * Group commit (PAYMENTS.md "Batches"): at most this many debits, or credits, per database
 * call, and at most this many such calls at once per kind. While the calls run, new requests
 * queue and coalesce, so a storm is served in batches and a trickle one request at a time.
 */
export const BATCH_MAX_ITEMS = 64;
export const BATCH_MAX_IN_FLIGHT = 2;
/** Requests waiting beyond this are refused (503) at once: the wallet is overloaded. */
export const BATCH_MAX_QUEUED = 20_000;

const batching = {
  maxBatch: BATCH_MAX_ITEMS,
  maxInFlight: BATCH_MAX_IN_FLIGHT,
  maxQueued: BATCH_MAX_QUEUED,
  overloaded: () => new DomainError('SERVICE_UNAVAILABLE', 'the wallet is overloaded; try again'),
};

interface CreditBatchRow {
  item: number;
  created: boolean;
  fan_id: string;
  currency: string;
  amount_minor: string;
  balance: string;
}

interface DebitBatchRow {
  item: number;
  outcome: PaymentOutcome;
  balance: string;
}

interface EntryRow {
  id: string;
  transfer_id: string;
  kind: WalletTransaction['kind'];
  amount_minor: string;
  balance_after_minor: string;
  currency: string;
  reference: string | null;
  order_id: string | null;
  created_at: Date;
}

/**
 * The wallet's only door to PostgreSQL. Every write is one call of a ledger function (one
 * round trip, one transaction; see the migration for what each does and the lock order), and
 * every database error that means something to the domain becomes a DomainError here.
 */
@Injectable()
export class LedgerRepository {
  private readonly logger = new Logger(LedgerRepository.name);
  /** Batches that failed for one item's sake and were run item by item (expected: rare). */
  batchesRunAlone = 0;
  /** One item per order in a batch; the same attempt asked again shares the queued answer. */
  private readonly debits = new GroupCommit<DebitRequest, DebitReply>(
    (items) => this.debitBatch(items),
    {
      ...batching,
      keyOf: (r) => r.orderId,
      sameAs: (queued, r) => queued.attempt === r.attempt,
    },
  );
  /** One item per reference in a batch: a replay must see the first one committed. */
  private readonly credits = new GroupCommit<CreditRequest, CreditReply>(
    (items) => this.creditBatch(items),
    { ...batching, keyOf: (r) => r.reference },
  );

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async balance(fanId: string, currency: string): Promise<number> {
    const rows = await this.run<{ balance_minor: string }[]>(
      `SELECT balance_minor FROM wallet.accounts
       WHERE kind = 'fan' AND owner_id = $1 AND currency = $2 AND shard = 0`,
      [fanId, currency],
    );
    return rows.length ? toSafeNumber(rows[0].balance_minor) : 0;
  }

  /** The fan's ledger entries, newest first, keyset-paged on the entry id. */
  async transactions(request: TransactionsRequest): Promise<TransactionsReply> {
    const before = request.cursor === undefined ? null : decodeCursor(request.cursor);
    const rows = await this.run<EntryRow[]>(
      `SELECT e.id, e.transfer_id, t.kind, e.amount_minor, e.balance_after_minor, t.currency,
              t.reference, t.order_id, e.created_at
       FROM wallet.accounts a
       JOIN wallet.entries e ON e.account_id = a.id
       JOIN wallet.transfers t ON t.id = e.transfer_id
       WHERE a.kind = 'fan' AND a.owner_id = $1 AND a.currency = $2 AND a.shard = 0
         AND ($3::bigint IS NULL OR e.id < $3::bigint)
       ORDER BY e.id DESC
       LIMIT $4`,
      [request.fanId, request.currency, before, request.limit + 1],
    );
    const page = rows.slice(0, request.limit);
    const items = page.map(toTransaction);
    return rows.length > request.limit
      ? { items, nextCursor: encodeCursor(page[page.length - 1].id) }
      : { items };
  }

  /** Acknowledged only once the batch that carried it has committed. */
  credit(request: CreditRequest): Promise<CreditReply> {
    return this.credits.submit(request);
  }

  /** Acknowledged only once the batch that carried it has committed. */
  debit(request: DebitRequest): Promise<DebitReply> {
    return this.debits.submit(request);
  }

  private creditBatch(items: readonly CreditRequest[]): Promise<ItemResult<CreditReply>[]> {
    return this.inBatch(items, async (batch) => {
      const rows = await this.db.query<CreditBatchRow[]>(
        CREDIT_BATCH_SQL,
        creditBatchParams(batch),
      );
      return byItem(rows, batch.length).map((row, i) => creditResult(batch[i], row));
    });
  }

  private debitBatch(items: readonly DebitRequest[]): Promise<ItemResult<DebitReply>[]> {
    return this.inBatch(items, async (batch) => {
      const rows = await this.db.query<DebitBatchRow[]>(DEBIT_ORDERS_SQL, debitOrdersParams(batch));
      return byItem(rows, batch.length).map((row, i) => ({
        ok: true as const,
        value: {
          orderId: batch[i].orderId,
          outcome: row.outcome,
          balanceMinor: toSafeNumber(row.balance),
        },
      }));
    });
  }

  /**
   * Runs a batch; if it fails for a reason of one of its items (a unique violation, a balance
   * past 2^53: the function aborted, so nothing of the batch happened), runs each item alone so
   * that only that item fails, with the error a call of its own would have had. An outage fails
   * every item at once: running them alone would only fail again.
   */
  private async inBatch<I, R>(
    items: readonly I[],
    run: (batch: readonly I[]) => Promise<ItemResult<R>[]>,
  ): Promise<ItemResult<R>[]> {
    try {
      return await run(items);
    } catch (e) {
      const error = translate(e);
      const outage = error instanceof DomainError && error.code === 'SERVICE_UNAVAILABLE';
      if (outage || items.length === 1) return items.map(() => ({ ok: false, error }));
      this.batchesRunAlone++;
      this.logger.warn(
        `a batch of ${items.length} failed (${describe(e)}); running its items alone`,
      );
      return Promise.all(items.map(async (item) => (await this.inBatch([item], run))[0]));
    }
  }

  /**
   * Reverses the order's payment, once (wallet.refund_order): a refund transfer unique per
   * order, so concurrent and repeated calls move the money once and answer `already` after.
   * An attempt the brand's whole revenue cannot pay is recorded as declined (wallet
   * .refund_declines) and answers `declined` to every call of that attempt, then and later.
   * One transaction per refund: refunds are rare, so they are not batched.
   */
  async refund(request: RefundRequest): Promise<RefundReply> {
    const [row] = await this.run<
      {
        outcome: RefundOutcome;
        amount_minor: string;
        balance_minor: string | null;
        reward_reversed_minor: string;
        reward_unrecovered_minor: string;
      }[]
    >(
      `SELECT outcome, amount_minor, balance_minor, reward_reversed_minor,
              reward_unrecovered_minor
       FROM wallet.refund_order($1, $2)`,
      [request.orderId, request.attempt],
    );
    return {
      orderId: request.orderId,
      outcome: row.outcome,
      amountMinor: toSafeNumber(row.amount_minor),
      balanceMinor: toSafeNumber(row.balance_minor ?? '0'),
      rewardReversedMinor: toSafeNumber(row.reward_reversed_minor),
      rewardUnrecoveredMinor: toSafeNumber(row.reward_unrecovered_minor),
    };
  }

  /**
   * A completed group's member (wallet.release_order): its payment from the drop's escrow to
   * the brand's revenue, and its referral reward, once per order (a unique key): concurrent and
   * repeated calls move the money once and answer `already` after. Not batched: one per member
   * of a completing group, far fewer than payments.
   */
  async release(request: ReleaseRequest): Promise<ReleaseReply> {
    const reward = request.rewardMinor ?? 0;
    if (reward > 0 && !request.referrerId) {
      throw DomainError.invalid([{ field: 'referrerId', message: 'a reward needs its referrer' }]);
    }
    const [row] = await this.run<{ outcome: ReleaseReply['outcome'] }[]>(
      `SELECT outcome FROM wallet.release_order($1, $2, $3, $4)`,
      [request.orderId, request.brandId, request.referrerId ?? '', reward],
    );
    return { orderId: request.orderId, outcome: row.outcome };
  }

  async settle(request: SettleRequest): Promise<SettleReply> {
    const [row] = await this.run<{ outcome: PaymentOutcome }[]>(
      `SELECT wallet.settle_order($1, $2) AS outcome`,
      [request.orderId, request.attempt],
    );
    return { orderId: request.orderId, outcome: row.outcome };
  }

  private async run<T>(sql: string, params: unknown[]): Promise<T> {
    try {
      return (await this.db.query(sql, params)) as T;
    } catch (e) {
      throw translate(e);
    }
  }
}

/** PostgreSQL errors that mean something to the domain; anything else stays as it is. */
function translate(error: unknown): unknown {
  const driver = (error instanceof QueryFailedError ? error.driverError : error) as {
    code?: string;
    constraint?: string;
  };
  const code = driver?.code;
  if (code === '23514' && driver.constraint === 'accounts_balance_safe') {
    return new DomainError('VALIDATION_FAILED', 'the balance would exceed the largest amount', [
      { field: 'amountMinor', message: 'would take the balance past 2^53 - 1' },
    ]);
  }
  if (code === '23514' && driver.constraint === 'accounts_not_negative') {
    return new DomainError('INSUFFICIENT_FUNDS');
  }
  if (
    code === '23505' &&
    (driver.constraint === 'payments_one_debit' || driver.constraint === 'transfers_payment_order')
  ) {
    return new DomainError('ORDER_PAID', 'the order was already paid');
  }
  // The server is unreachable, shutting down or restarting: a clear 503, not a 500.
  if (
    (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    (error instanceof Error && /Connection terminated|timeout exceeded/i.test(error.message))
  ) {
    return new DomainError('SERVICE_UNAVAILABLE', 'the wallet database is unavailable');
  }
  return error;
}

function describe(error: unknown): string {
  const code = (error instanceof QueryFailedError ? error.driverError : error) as { code?: string };
  return `${code?.code ?? 'no code'}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The batch functions answer one row per item, numbered from 1; in the batch's order here. */
function byItem<T extends { item: number }>(rows: readonly T[], count: number): T[] {
  const ordered = new Array<T>(count);
  for (const row of rows) ordered[row.item - 1] = row;
  for (let i = 0; i < count; i++) {
    if (ordered[i] === undefined)
      throw new Error(`the batch function gave no row for item ${i + 1}`);
  }
  return ordered;
}

function creditResult(request: CreditRequest, row: CreditBatchRow): ItemResult<CreditReply> {
  if (
    !row.created &&
    (row.fan_id !== request.fanId ||
      row.currency !== request.currency ||
      toSafeNumber(row.amount_minor) !== request.amountMinor)
  ) {
    return {
      ok: false,
      error: new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'this reference was already credited with another fan, amount or currency',
        [{ field: 'reference', message: 'already used for a different credit' }],
      ),
    };
  }
  return {
    ok: true,
    value: {
      fanId: request.fanId,
      balanceMinor: toSafeNumber(row.balance),
      created: row.created,
    },
  };
}

function toTransaction(row: EntryRow): WalletTransaction {
  return {
    id: row.id,
    transferId: row.transfer_id,
    kind: row.kind,
    amountMinor: toSafeNumber(row.amount_minor),
    balanceAfterMinor: toSafeNumber(row.balance_after_minor),
    currency: row.currency,
    ...(row.reference !== null ? { reference: row.reference } : {}),
    ...(row.order_id !== null ? { orderId: row.order_id } : {}),
    createdAt: row.created_at.toISOString(),
  };
}

function encodeCursor(entryId: string): string {
  return Buffer.from(`e:${entryId}`).toString('base64url');
}

/** The largest entry id (`bigserial`: PostgreSQL's bigint). */
const MAX_ENTRY_ID = 9_223_372_036_854_775_807n;

/** A cursor's entry id; one past bigint (or not ours at all) is a 400, not a SQL error. */
function decodeCursor(cursor: string): string {
  const match = /^e:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || BigInt(match[1]) > MAX_ENTRY_ID) {
    throw DomainError.invalid([{ field: 'cursor', message: 'is not a cursor this API gave out' }]);
  }
  return match[1];
}
