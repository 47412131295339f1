import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  DebitManyReply,
  DebitOutcome,
  DebitReply,
  RefundReply,
  ReleaseReply,
  SettleReply,
  WalletPatterns,
} from '@flashdrop/contracts';
import { LedgerRepository } from '@flashdrop/ledger';
import { toWalletErrorReply } from '../rpc/rpc-error.filter';
import {
  debitManyItems,
  parseDebitMessage,
  RefundMessage,
  ReleaseMessage,
  SettleMessage,
} from './payments.dto';

/**
 * The wallet's half of checkout (PAYMENTS.md): `debit` decides one payment attempt of an order
 * exactly once; `settle` is the recovery job's question for an attempt left half-way, and
 * fences it off when it was not debited; `refund` reverses a paid order's debit, once.
 */
@Controller()
export class PaymentsController {
  constructor(private readonly ledger: LedgerRepository) {}

  @MessagePattern(WalletPatterns.debit)
  debit(@Payload() message: unknown): Promise<DebitReply> {
    return this.ledger.debit(parseDebitMessage(message));
  }

  /**
   * Debits that arrived together at the API, in one message: each is decided as if it came
   * alone (they join the same group commit) and answered with its own reply or refusal.
   */
  @MessagePattern(WalletPatterns.debitMany)
  async debitMany(@Payload() message: unknown): Promise<DebitManyReply> {
    const results = await Promise.all(
      debitManyItems(message).map(async (item): Promise<DebitOutcome> => {
        try {
          return { reply: await this.ledger.debit(parseDebitMessage(item)) };
        } catch (error) {
          return { error: toWalletErrorReply(error) };
        }
      }),
    );
    return { results };
  }

  @MessagePattern(WalletPatterns.refund)
  refund(@Payload() message: RefundMessage): Promise<RefundReply> {
    return this.ledger.refund(message);
  }

  /** A completed group's member: escrow -> revenue (and its reward), once (PAYMENTS.md "Group buy"). */
  @MessagePattern(WalletPatterns.release)
  release(@Payload() message: ReleaseMessage): Promise<ReleaseReply> {
    return this.ledger.release(message);
  }

  @MessagePattern(WalletPatterns.settle)
  settle(@Payload() message: SettleMessage): Promise<SettleReply> {
    return this.ledger.settle(message);
  }
}
