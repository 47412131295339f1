import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BalanceReply, TransactionsReply, WalletPatterns } from '@flashdrop/contracts';
import { LedgerRepository } from '@flashdrop/ledger';
import { BalanceMessage, TransactionsMessage } from './accounts.dto';

/** What a fan may read of their own wallet: the balance and the ledger entries. */
@Controller()
export class AccountsController {
  constructor(private readonly ledger: LedgerRepository) {}

  @MessagePattern(WalletPatterns.balance)
  async balance(@Payload() message: BalanceMessage): Promise<BalanceReply> {
    const balanceMinor = await this.ledger.balance(message.fanId, message.currency);
    return { fanId: message.fanId, balanceMinor, currency: message.currency };
  }

  @MessagePattern(WalletPatterns.transactions)
  transactions(@Payload() message: TransactionsMessage): Promise<TransactionsReply> {
    return this.ledger.transactions(message);
  }
}
