import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { DomainError, WalletPatterns } from '@flashdrop/contracts';
import { UNSIGNED_PATTERN } from '@flashdrop/wallet-client';

/** The wallet's message handlers, reached by the API over the TCP transport. */
@Controller()
export class WalletController {
  @MessagePattern(WalletPatterns.ping)
  ping(): { ok: true } {
    return { ok: true };
  }

  /** Every request whose signature is missing or wrong (SignedRequestDeserializer) ends here. */
  @MessagePattern(UNSIGNED_PATTERN)
  unsigned(): never {
    throw new DomainError('UNAUTHENTICATED', 'the message is not signed with WALLET_SECRET');
  }
}
