import { DebitReply, DebitRequest } from '@flashdrop/contracts';

/**
 * What happens at the next hop from the payer to the wallet (the TCP call the API makes):
 * - `lose-reply`: the wallet commits, the answer never arrives (the client retries);
 * - `crash-before`: the payer dies after its Redis step (held -> paying), before the debit;
 * - `crash-after`: the payer dies after the debit committed, before its Redis step
 *   (paying -> paid).
 * A crash leaves the half-way state a `kill -9` of the API leaves; the payment recovery is
 * what must settle it.
 */
export type HopFault = 'lose-reply' | 'crash-before' | 'crash-after';

/** The payer process is gone: nobody will act on this call's outcome. */
export class PayerKilled extends Error {
  constructor(readonly when: 'before-debit' | 'after-debit') {
    super(`the payer was killed ${when}`);
  }
}

/** The wallet's answer was lost on the way back (the wallet did its work). */
export class ReplyLost extends Error {
  constructor() {
    super('the reply was lost');
  }
}

/** One fault armed for the next debit hop (the command that arms it pays at once), then spent. */
export class Faults {
  private next?: HopFault;
  /** Every debit the wallet answered since the last take, answered to the payer or not. */
  private debits: { request: DebitRequest; reply: DebitReply }[] = [];

  arm(fault: HopFault): void {
    this.next = fault;
  }

  clear(): void {
    this.next = undefined;
  }

  takeDebits(): { request: DebitRequest; reply: DebitReply }[] {
    const taken = this.debits;
    this.debits = [];
    return taken;
  }

  async atDebit(
    request: DebitRequest,
    call: (r: DebitRequest) => Promise<DebitReply>,
  ): Promise<DebitReply> {
    const fault = this.next;
    this.next = undefined;
    if (fault === 'crash-before') throw new PayerKilled('before-debit');
    const reply = await call(request);
    this.debits.push({ request, reply });
    if (fault === 'crash-after') throw new PayerKilled('after-debit');
    if (fault === 'lose-reply') throw new ReplyLost();
    return reply;
  }
}
