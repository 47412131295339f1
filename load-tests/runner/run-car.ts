import { carSale } from '../scenarios/car-sale';
import { payments } from '../scenarios/payments';
import { RunContext } from './context';
import { bearer, createDrop, DropStats, fanId, fill, sleep, stats, tokenOf } from './stack';

export interface CarResult {
  readonly quantity: number;
  readonly arrivals: number;
  readonly held: number;
  readonly paid: number;
  readonly abandoned: number;
  readonly soldOutAnswers: number;
  /** Answers other than the scenario's expected ones. */
  readonly errors: number;
  readonly stats?: DropStats;
  /** held + paid above the quantity at the end (must be <= 0). */
  readonly oversold: number;
  /** remaining + held + paid - quantity at the end: 0 when every expired unit came back. */
  readonly unitsAdrift: number;
  readonly sellOutSeconds?: number;
  readonly seconds: number;
}

/**
 * The car sale as a true open model: fan i arrives at start + i / rate whatever the answers
 * before (a trickle needs no load generator; plain fetch keeps the schedule). Each fan is
 * credited the price, grabs once and pays, except every `abandonEvery`-th winner, whose hold
 * expires and whose unit must come back for a later fan.
 */
export async function runCar(
  ctx: RunContext,
  quantity: number = carSale.drop.quantity,
): Promise<CarResult> {
  const { stack } = ctx;
  const brand = tokenOf(stack, `brand-${ctx.run}`, 'brand');
  const operator = tokenOf(stack, `operator-${ctx.run}`, 'operator');
  const start = Date.now() + 1_000;
  const windowMs = carSale.windowSeconds * 1000;
  const drop = await createDrop(
    stack,
    brand,
    carSale.drop,
    quantity,
    // Open past the arrivals, so the last abandoned holds expire inside the sale.
    { saleStartsAt: start, saleEndsAt: start + windowMs + 60_000 },
    `${ctx.run}-car`,
  );
  const run = `${ctx.run}c`;
  const arrivals = Math.round(carSale.windowSeconds * carSale.arrival.ratePerSecond);
  let held = 0;
  let paid = 0;
  let abandoned = 0;
  let soldOutAnswers = 0;
  let errors = 0;
  let lastUnitAt: number | undefined;
  const grabPath = fill(carSale.grab.path, { dropId: drop.id });

  async function fan(i: number): Promise<void> {
    const id = fanId(run, i);
    const token = tokenOf(stack, id, 'fan');
    const post = (path: string, auth: string, body: unknown) =>
      fetch(`${stack.origin}${path}`, {
        method: 'POST',
        headers: { ...bearer(auth), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const credit = await post(fill(payments.credit.path, { fanId: id }), operator, {
      amountMinor: carSale.drop.priceMinor,
      reference: `bench-${id}`,
    });
    await credit.arrayBuffer();
    const grab = await post(grabPath, token, carSale.grab.body);
    const text = await grab.text();
    if (grab.status === 409 && text.includes('"SOLD_OUT"')) {
      soldOutAnswers++;
      return;
    }
    if (grab.status !== 201) {
      errors++;
      return;
    }
    held++;
    if (i % carSale.abandonEvery === 0) {
      abandoned++;
      return;
    }
    const order = JSON.parse(text) as { id: string };
    const pay = await post(fill(carSale.pay.path, { orderId: order.id }), token, carSale.pay.body);
    await pay.arrayBuffer();
    if (pay.status === 200) {
      paid++;
      if (paid === quantity) lastUnitAt = Date.now();
    } else errors++;
  }

  await sleep(start - Date.now());
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < arrivals; i++) {
    await sleep(start + (i * 1000) / carSale.arrival.ratePerSecond - Date.now());
    inFlight.push(fan(i).catch(() => void errors++));
  }
  await Promise.all(inFlight);
  // Let the last abandoned holds expire and the sweeper return them.
  let after: DropStats | undefined;
  const deadline = Date.now() + (carSale.drop.holdSeconds + 15) * 1000;
  do {
    await sleep(1000);
    after = await stats(stack, brand, drop.id).catch(() => undefined);
  } while (after && after.held > 0 && Date.now() < deadline);
  if (after) {
    const { remaining, held, paid, expired } = after;
    ctx.log(`car: ${JSON.stringify({ remaining, held, paid, expired })}`);
  }
  return {
    quantity,
    arrivals,
    held,
    paid,
    abandoned,
    soldOutAnswers,
    errors,
    stats: after,
    oversold: after ? after.held + after.paid - quantity : held - quantity,
    unitsAdrift: after ? after.remaining + after.held + after.paid - quantity : NaN,
    sellOutSeconds: lastUnitAt === undefined ? undefined : (lastUnitAt - start) / 1000,
    seconds: (Date.now() - start) / 1000,
  };
}
