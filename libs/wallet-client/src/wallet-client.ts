import { Logger } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { Subscription, TimeoutError } from 'rxjs';
import {
  BalanceReply,
  BalanceRequest,
  CreditReply,
  CreditRequest,
  DebitManyReply,
  DebitReply,
  DebitRequest,
  MAX_DEBITS_PER_MESSAGE,
  RefundReply,
  RefundRequest,
  ReleaseReply,
  ReleaseRequest,
  SettleReply,
  SettleRequest,
  TransactionsReply,
  TransactionsRequest,
  DomainError,
  isErrorCode,
  WalletErrorReply,
  WalletPatterns,
} from '@flashdrop/contracts';
import { MAX_MESSAGE_CHARS, SigningSerializer } from './message-signature';

export interface WalletClientOptions {
  readonly host: string;
  readonly port: number;
  /** Every call answers within this or fails as SERVICE_UNAVAILABLE. */
  readonly timeoutMs: number;
  /** WALLET_SECRET: every message is signed with it ('' = unsigned, a wallet on loopback). */
  readonly secret?: string;
}

/**
 * The API's and the worker's way to the wallet service: Nest's TCP ClientProxy, one
 * persistent connection, every call bounded by WALLET_TIMEOUT_MS. A wallet that is down, slow
 * or drops the connection becomes 503 SERVICE_UNAVAILABLE; a refusal the wallet sends back
 * becomes the same DomainError it was there. Nothing else in the API needs the wallet, so
 * grabs keep working while it is away.
 */
interface PendingDebit {
  readonly request: DebitRequest;
  readonly resolve: (reply: DebitReply) => void;
  readonly reject: (error: unknown) => void;
}

export class WalletClient {
  private readonly logger = new Logger(WalletClient.name);
  private readonly client: ClientProxy;
  private readonly timeoutMs: number;
  private pendingDebits: PendingDebit[] = [];

  constructor(options: WalletClientOptions) {
    this.client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: {
        host: options.host,
        port: options.port,
        maxBufferSize: MAX_MESSAGE_CHARS,
        ...(options.secret ? { serializer: new SigningSerializer(options.secret) } : {}),
      },
    });
    this.timeoutMs = options.timeoutMs;
  }

  ping(): Promise<{ ok: true }> {
    return this.call(WalletPatterns.ping, {});
  }

  balance(request: BalanceRequest): Promise<BalanceReply> {
    return this.call(WalletPatterns.balance, request);
  }

  transactions(request: TransactionsRequest): Promise<TransactionsReply> {
    return this.call(WalletPatterns.transactions, request);
  }

  credit(request: CreditRequest): Promise<CreditReply> {
    return this.call(WalletPatterns.credit, request);
  }

  /**
   * Debits asked in the same turn of the event loop leave as ONE message (`debitMany`), each
   * answered with its own reply or refusal: a storm of payments costs the API and the wallet one
   * socket write, one frame and one handler call per group instead of per payment. The wallet
   * commits them in its own batches either way (apps/wallet/PAYMENTS.md "Batches").
   */
  debit(request: DebitRequest): Promise<DebitReply> {
    return new Promise<DebitReply>((resolve, reject) => {
      this.pendingDebits.push({ request, resolve, reject });
      if (this.pendingDebits.length === 1) setImmediate(() => this.sendDebits());
    });
  }

  settle(request: SettleRequest): Promise<SettleReply> {
    return this.call(WalletPatterns.settle, request);
  }

  /** Reverses the order's payment once (PAYMENTS.md "Refunds"); safe to ask again. */
  refund(request: RefundRequest): Promise<RefundReply> {
    return this.call(WalletPatterns.refund, request);
  }

  /** A completed group member's escrow to revenue, once (PAYMENTS.md "Group buy"); safe to ask again. */
  release(request: ReleaseRequest): Promise<ReleaseReply> {
    return this.call(WalletPatterns.release, request);
  }

  private sendDebits(): void {
    const all = this.pendingDebits;
    this.pendingDebits = [];
    for (let i = 0; i < all.length; i += MAX_DEBITS_PER_MESSAGE) {
      const group = all.slice(i, i + MAX_DEBITS_PER_MESSAGE);
      if (group.length === 1) {
        this.call<DebitReply>(WalletPatterns.debit, group[0].request).then(
          group[0].resolve,
          group[0].reject,
        );
        continue;
      }
      this.call<DebitManyReply>(WalletPatterns.debitMany, {
        items: group.map((p) => p.request),
      }).then(
        (reply) =>
          group.forEach((p, k) => {
            const result = reply.results[k];
            if (result === undefined) p.reject(new Error('the wallet answered too few results'));
            else if ('reply' in result) p.resolve(result.reply);
            else p.reject(this.translate(result.error, WalletPatterns.debit));
          }),
        (error: unknown) => group.forEach((p) => p.reject(error)),
      );
    }
  }

  /** Nest calls this on shutdown for the provider that holds the client. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  /**
   * One request, one answer, bounded. A plain timer rather than rxjs's `timeout` operator: that
   * schedules through setInterval per call, ~4% of the API's CPU per payment.
   */
  private call<T>(pattern: string, payload: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // Assigned once subscribe returns; an answer given during subscribe finds it unset.
      let subscription: Subscription | undefined = undefined;
      const finish = (error: unknown, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        subscription?.unsubscribe();
        if (error === undefined) resolve(value as T);
        else reject(this.translate(error, pattern));
      };
      const timer = setTimeout(() => finish(new TimeoutError()), this.timeoutMs);
      subscription = this.client.send<T>(pattern, payload).subscribe({
        next: (value) => finish(undefined, value),
        error: (error: unknown) => finish(error ?? new Error('wallet call failed')),
        complete: () => finish(new Error(`wallet ${pattern} answered nothing`)),
      });
      if (settled) subscription.unsubscribe();
    });
  }

  private translate(error: unknown, pattern: string): Error {
    const reply = error as Partial<WalletErrorReply> | undefined;
    if (reply && reply.error === 'INTERNAL') {
      // A bug in the wallet, not an outage: a 500 whose error id leads to both logs.
      return new Error(`wallet ${pattern} failed: ${reply.message ?? 'internal error'}`);
    }
    if (reply && reply.error === 'UNAUTHENTICATED') {
      // Not the caller's fault: this process and the wallet disagree on WALLET_SECRET.
      this.logger.error(
        `the wallet refused ${pattern}: its signature (WALLET_SECRET) is not valid`,
      );
      return new DomainError('SERVICE_UNAVAILABLE', 'the wallet is unavailable; try again shortly');
    }
    if (reply && isErrorCode(reply.error)) {
      return new DomainError(reply.error, reply.message ?? reply.error, reply.details);
    }
    if (error instanceof TimeoutError) {
      this.logger.warn(`wallet did not answer ${pattern} within ${this.timeoutMs} ms`);
    } else {
      this.logger.warn(`wallet call ${pattern} failed: ${describe(error)}`);
    }
    return new DomainError('SERVICE_UNAVAILABLE', 'the wallet is unavailable; try again shortly');
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
