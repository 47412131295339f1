import { payments } from '../scenarios/payments';
import { phoneRush } from '../scenarios/phone-rush';
import { RunContext } from './context';
import { cpuSeconds } from './cpu';
import { answersOf, drive, DriveResult } from './load';
import { Winner } from './run-phone';
import { bearer, fanId, fill, tokenOf } from './stack';

export interface PaymentsResult {
  readonly credits: DriveResult;
  readonly pay: DriveResult;
  readonly paid: number;
  /** CPU microseconds per payment answered: the server (API or floor), Redis, the rest. */
  readonly cpuUsPerPayment: {
    readonly server: number;
    readonly redis: number;
    readonly others: number;
  };
}

/** The processes whose CPU the payments read (the rest: the stack's wallet, worker, ...). */
export interface PaymentPids {
  readonly server?: number;
  readonly redis?: number;
  readonly others?: readonly number[];
}

/**
 * The phone's winners pay: an operator credits each winner's wallet with the price (a
 * confirmed top-up), then every winner pays their held order, each once. `origin`: the stack,
 * or the payment floor (its own orders and wallet).
 */
export async function runPayments(
  ctx: RunContext,
  run: string,
  winners: readonly Winner[],
  tokens: readonly string[],
  maxSeconds: number,
  origin: string = ctx.stack.origin,
  pids: PaymentPids = {},
): Promise<PaymentsResult> {
  const operator = tokenOf(ctx.stack, `operator-${ctx.run}`, 'operator');
  const credits = await drive({
    origin,
    count: winners.length,
    connections: payments.arrival.maxInFlight,
    maxSeconds,
    call: (i) => ({
      path: fill(payments.credit.path, { fanId: fanId(run, winners[i].fan) }),
      headers: bearer(operator),
      body: JSON.stringify({
        amountMinor: phoneRush.drop.priceMinor,
        reference: `bench-${run}-${winners[i].fan}`,
      }),
    }),
  });
  ctx.log(`credits: ${credits.answered} at ${credits.rate.toFixed(0)}/s`);

  const body = JSON.stringify(payments.pay.body);
  const othersCpu = () =>
    pids.others ? pids.others.reduce((sum, pid) => sum + cpuSeconds(pid), 0) : NaN;
  const cpu0 = {
    server: cpuSeconds(pids.server),
    redis: cpuSeconds(pids.redis),
    others: othersCpu(),
  };
  const pay = await drive({
    origin,
    count: winners.length,
    connections: payments.arrival.maxInFlight,
    maxSeconds,
    call: (i) => ({
      path: fill(payments.pay.path, { orderId: winners[i].orderId }),
      headers: bearer(tokens[winners[i].fan]),
      body,
    }),
  });
  const per = (now: number, before: number) => ((now - before) * 1e6) / Math.max(1, pay.answered);
  return {
    credits,
    pay,
    paid: answersOf(pay, payments.expectedAnswers),
    cpuUsPerPayment: {
      server: per(cpuSeconds(pids.server), cpu0.server),
      redis: per(cpuSeconds(pids.redis), cpu0.redis),
      others: per(othersCpu(), cpu0.others),
    },
  };
}
