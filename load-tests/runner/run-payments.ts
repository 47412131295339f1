import { payments } from '../scenarios/payments';
import { phoneRush } from '../scenarios/phone-rush';
import { RunContext } from './context';
import { answersOf, drive, DriveResult } from './load';
import { Winner } from './run-phone';
import { bearer, fanId, fill, tokenOf } from './stack';

export interface PaymentsResult {
  readonly credits: DriveResult;
  readonly pay: DriveResult;
  readonly paid: number;
}

/**
 * The phone's winners pay: an operator credits each winner's wallet with the price (a
 * confirmed top-up), then every winner pays their held order, each once.
 */
export async function runPayments(
  ctx: RunContext,
  run: string,
  winners: readonly Winner[],
  tokens: readonly string[],
  maxSeconds: number,
): Promise<PaymentsResult> {
  const operator = tokenOf(ctx.stack, `operator-${ctx.run}`, 'operator');
  const credits = await drive({
    origin: ctx.stack.origin,
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
  const pay = await drive({
    origin: ctx.stack.origin,
    count: winners.length,
    connections: payments.arrival.maxInFlight,
    maxSeconds,
    call: (i) => ({
      path: fill(payments.pay.path, { orderId: winners[i].orderId }),
      headers: bearer(tokens[winners[i].fan]),
      body,
    }),
  });
  const paid = answersOf(pay, payments.expectedAnswers);
  return { credits, pay, paid };
}
