import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { WalletPatterns } from '@flashdrop/contracts';

/** The wallet's message handlers, reached by the API over the TCP transport. */
@Controller()
export class WalletController {
  @MessagePattern(WalletPatterns.ping)
  ping(): { ok: true } {
    return { ok: true };
  }
}
