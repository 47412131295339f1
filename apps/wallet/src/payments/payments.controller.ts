import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DebitReply, SettleReply, WalletPatterns } from '@flashdrop/contracts';
import { LedgerRepository } from '../ledger/ledger.repository';
import { parseDebitMessage, SettleMessage } from './payments.dto';

/**
 * The wallet's half of checkout (PAYMENTS.md): `debit` decides one payment attempt of an order
 * exactly once; `settle` is the recovery job's question for an attempt left half-way, and
 * fences it off when it was not debited.
 */
@Controller()
export class PaymentsController {
  constructor(private readonly ledger: LedgerRepository) {}

  @MessagePattern(WalletPatterns.debit)
  debit(@Payload() message: unknown): Promise<DebitReply> {
    return this.ledger.debit(parseDebitMessage(message));
  }

  @MessagePattern(WalletPatterns.settle)
  settle(@Payload() message: SettleMessage): Promise<SettleReply> {
    return this.ledger.settle(message);
  }
}
