import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import {
  CreditReply,
  CreditRequest,
  DebitReply,
  DebitRequest,
  DomainError,
  PaymentOutcome,
  SettleReply,
  SettleRequest,
  TransactionsReply,
  TransactionsRequest,
  WalletTransaction,
} from '@flashdrop/contracts';
import { toSafeNumber } from './bigint.transformer';
import { shardOf } from './shards';

interface CreditRow {
  created: boolean;
  fan_id: string;
  currency: string;
  amount_minor: string;
  balance_minor: string;
}

interface DebitRow {
  created: boolean;
  outcome: PaymentOutcome;
  balance_minor: string;
}

interface EntryRow {
  id: string;
  transfer_id: string;
  kind: 'credit' | 'payment';
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

  async credit(request: CreditRequest): Promise<CreditReply> {
    const [row] = await this.run<CreditRow[]>(`SELECT * FROM wallet.credit($1, $2, $3, $4, $5)`, [
      request.fanId,
      request.currency,
      request.amountMinor,
      request.reference,
      shardOf(request.reference),
    ]);
    if (
      !row.created &&
      (row.fan_id !== request.fanId ||
        row.currency !== request.currency ||
        toSafeNumber(row.amount_minor) !== request.amountMinor)
    ) {
      throw new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'this reference was already credited with another fan, amount or currency',
        [{ field: 'reference', message: 'already used for a different credit' }],
      );
    }
    return {
      fanId: request.fanId,
      balanceMinor: toSafeNumber(row.balance_minor),
      created: row.created,
    };
  }

  async debit(request: DebitRequest): Promise<DebitReply> {
    const [row] = await this.run<DebitRow[]>(
      `SELECT * FROM wallet.debit_order($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        request.orderId,
        request.attempt,
        request.fanId,
        request.dropId,
        request.brandId,
        request.currency,
        request.amountMinor,
        shardOf(request.orderId),
      ],
    );
    return {
      orderId: request.orderId,
      outcome: row.outcome,
      balanceMinor: toSafeNumber(row.balance_minor),
    };
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
    return new DomainError('INSUFFICIENT_FUNDS', 'the wallet balance is too low');
  }
  if (code === '23505' && driver.constraint === 'payments_one_debit') {
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

function decodeCursor(cursor: string): string {
  const match = /^e:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) {
    throw new DomainError('VALIDATION_FAILED', 'request is invalid', [
      { field: 'cursor', message: 'is not a cursor this API gave out' },
    ]);
  }
  return match[1];
}
