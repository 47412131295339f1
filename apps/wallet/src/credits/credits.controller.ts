import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CreditReply, WalletPatterns } from '@flashdrop/contracts';
import { LedgerRepository } from '@flashdrop/ledger';
import { parseCreditMessage } from './credits.dto';

/** Operator top-ups: external funding -> fan, once per reference. */
@Controller()
export class CreditsController {
  constructor(private readonly ledger: LedgerRepository) {}

  @MessagePattern(WalletPatterns.credit)
  credit(@Payload() message: unknown): Promise<CreditReply> {
    return this.ledger.credit(parseCreditMessage(message));
  }
}
