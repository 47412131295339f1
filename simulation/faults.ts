import {
  DebitReply,
  DebitRequest,
  RefundReply,
  RefundRequest,
  ReleaseReply,
  ReleaseRequest,
} from '@flashdrop/contracts';

/**
 * What happens at the next hop from the payer to the wallet (the TCP call the API makes):
 * - `lose-reply`: the wallet commits, the answer never arrives (the client retries);
 * - `crash-before`: the payer dies after its Redis step (held -> paying), before the debit;
 * - `crash-after`: the payer dies after the debit committed, before its Redis step
 *   (paying -> paid).
 * A crash leaves the half-way state a `kill -9` of the API leaves; the payment recovery is
 * what must settle it. The same three at the refund hop (the brand's refund: begin_refund in
 * Redis, then the wallet's refund_order, then complete_refund in Redis): the refund recovery
 * must finish what a dead refunder left `refunding`. And at the release hop of a group's
 * completion (complete_payment moved the group to `completing` in Redis, then the wallet's
 * release_order per member, then finish_group in Redis): a completer killed before the first
 * release, or after one committed, leaves the group `completing`; the group sweeper, or the
 * next payment call of a member, must finish it, releasing each member's escrow once.
 */
export type HopFault = 'lose-reply' | 'crash-before' | 'crash-after';

/** The payer process is gone: nobody will act on this call's outcome. */
export class PayerKilled extends Error {
  constructor(
    readonly when:
      | 'before-debit'
      | 'after-debit'
      | 'before-refund'
      | 'after-refund'
      | 'before-release'
      | 'after-release',
  ) {
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
  private nextRefund?: HopFault;
  private nextRelease?: Exclude<HopFault, 'lose-reply'>;
  /** Every debit the wallet answered since the last take, answered to the payer or not. */
  private debits: { request: DebitRequest; reply: DebitReply }[] = [];
  /** Every refund the wallet answered since the last take (the refunder's, the recovery's). */
  private refunds: { request: RefundRequest; reply: RefundReply }[] = [];
  /** Every escrow release the wallet answered since the last take (a completer's, a sweeper's). */
  private releases: { request: ReleaseRequest; reply: ReleaseReply }[] = [];

  arm(fault: HopFault): void {
    this.next = fault;
  }

  /** A fault for the next refund hop (the command that arms it refunds at once), then spent. */
  armRefund(fault: HopFault): void {
    this.nextRefund = fault;
  }

  /** A fault for the next release hop (a group's completion), then spent. */
  armRelease(fault: Exclude<HopFault, 'lose-reply'>): void {
    this.nextRelease = fault;
  }

  /** Whether the release fault armed is still unspent (no completion reached the hop). */
  releaseArmed(): boolean {
    return this.nextRelease !== undefined;
  }

  clear(): void {
    this.next = undefined;
    this.nextRefund = undefined;
    this.nextRelease = undefined;
  }

  takeReleases(): { request: ReleaseRequest; reply: ReleaseReply }[] {
    const taken = this.releases;
    this.releases = [];
    return taken;
  }

  takeRefunds(): { request: RefundRequest; reply: RefundReply }[] {
    const taken = this.refunds;
    this.refunds = [];
    return taken;
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

  async atRefund(
    request: RefundRequest,
    call: (r: RefundRequest) => Promise<RefundReply>,
  ): Promise<RefundReply> {
    const fault = this.nextRefund;
    this.nextRefund = undefined;
    if (fault === 'crash-before') throw new PayerKilled('before-refund');
    const reply = await call(request);
    this.refunds.push({ request, reply });
    if (fault === 'crash-after') throw new PayerKilled('after-refund');
    if (fault === 'lose-reply') throw new ReplyLost();
    return reply;
  }

  async atRelease(
    request: ReleaseRequest,
    call: (r: ReleaseRequest) => Promise<ReleaseReply>,
  ): Promise<ReleaseReply> {
    const fault = this.nextRelease;
    this.nextRelease = undefined;
    if (fault === 'crash-before') throw new PayerKilled('before-release');
    const reply = await call(request);
    this.releases.push({ request, reply });
    if (fault === 'crash-after') throw new PayerKilled('after-release');
    return reply;
  }
}
