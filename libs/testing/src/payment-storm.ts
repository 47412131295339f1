import { Order } from '@flashdrop/contracts';
import { DropDefinition, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { api, eventually } from './api-client';
import { fund, heldOrders, pay } from './payment-fixtures';
import { tokenFor, uniqueId } from './tokens';

/** How a payment storm runs and where its kill falls. */
export interface PaymentStormOptions {
  /** The API the fans pay through (a test's own, OwnServices `apiUrl`). */
  readonly baseUrl: string;
  /** Where the orders are made (heldOrders, straight in Redis). */
  readonly inventory: Inventory;
  /** One held order each; each funded twice `priceMinor`, so every payment can succeed. */
  readonly fans: readonly string[];
  readonly priceMinor: number;
  /** More of the drop's definition (e.g. a referral reward). */
  readonly drop?: Partial<DropDefinition>;
  /** Referral rewards: each fan first reserves with this referrer (heldOrders). */
  readonly referrerOf?: (fanId: string, index: number) => string | undefined;
  /** kill -9 of the server under test, called at the `killAfterAcks`-th acknowledged payment. */
  readonly kill: () => void;
  /** Starts it again (a second after the kill) and resolves once it is up. */
  readonly restart: () => Promise<void>;
  /** Payment requests in flight at once (default 32). */
  readonly concurrency?: number;
  /** Acknowledged payments before the kill (default 80). */
  readonly killAfterAcks?: number;
  /** Orders kept out of the storm and paid once the stack is back (default 20). */
  readonly afterRestart?: number;
}

/** What a storm through a kill met: its orders, what was acknowledged, what was in flight. */
export interface PaymentStorm {
  readonly drop: DropDefinition;
  /** Every order of the drop, the storm's and the ones kept out of it (the last `afterRestart`). */
  readonly orders: readonly InventoryOrder[];
  /** The orders whose payment the API acknowledged (200), before and after the restart. */
  readonly acked: Map<string, unknown>;
  /** Acknowledged in the storm (sent before the kill or while the server was down). */
  readonly ackedInStorm: number;
  readonly inFlightAtKill: number;
  readonly afterRestart: number;
}

/**
 * The set-up of a kill -9 in the middle of payments (apps/worker/test/payment-crash.e2e-spec.ts):
 * fans funded, one held order each, a storm of one payment request per order (no retries: a
 * client that gives up) with the kill at the `killAfterAcks`-th acknowledged payment and the
 * restart a second later, then the orders kept out of the storm paid once the stack takes money
 * again (a probe credit answers 201), each acknowledged. So the kill has the three phases a
 * crash test must show: acknowledged before it, in flight at it, acknowledged after the
 * restart; it throws (the test fails) when the kill never came or met nothing in flight.
 * What must hold afterwards is the test's to check.
 */
export async function paymentStormThroughKill(o: PaymentStormOptions): Promise<PaymentStorm> {
  const afterRestart = o.afterRestart ?? 20;
  const killAfterAcks = o.killAfterAcks ?? 80;
  await fund(o.fans, 2 * o.priceMinor, o.baseUrl);
  const { drop, orders } = await heldOrders(
    o.inventory,
    o.fans,
    { priceMinor: o.priceMinor, ...o.drop },
    o.referrerOf,
  );
  let killed = false;
  let inFlightAtKill = 0;
  let restarted: Promise<void> | undefined;
  const acked = await storm(
    o.baseUrl,
    orders.slice(0, -afterRestart),
    o.concurrency ?? 32,
    (acks, inFlight) => {
      if (killed || acks < killAfterAcks) return;
      killed = true;
      inFlightAtKill = inFlight;
      o.kill();
      restarted = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() => o.restart());
    },
  );
  if (!killed) throw new Error(`the storm ended with ${acked.size} acknowledged, before the kill`);
  if (inFlightAtKill === 0) throw new Error('nothing in flight at the kill');
  await restarted;
  const ackedInStorm = acked.size;
  await payAfterRestart(o.baseUrl, orders.slice(-afterRestart), acked);
  return { drop, orders, acked, ackedInStorm, inFlightAtKill, afterRestart };
}

/**
 * One payment request per order, `concurrency` in flight, no retries, calling `onAck` after
 * each 200 with the acknowledged count and how many other requests are in flight at that
 * instant. Resolves to the paid orders the API acknowledged.
 */
async function storm(
  baseUrl: string,
  orders: readonly InventoryOrder[],
  concurrency: number,
  onAck: (acks: number, inFlight: number) => void,
): Promise<Map<string, Order>> {
  const acked = new Map<string, Order>();
  let next = 0;
  let inFlight = 0;
  const worker = async () => {
    while (next < orders.length) {
      const order = orders[next++];
      inFlight += 1;
      const res = await pay(order.id, order.fanId, {}, baseUrl).catch(() => undefined);
      inFlight -= 1;
      if (res?.status === 200) {
        acked.set(order.id, res.body);
        onAck(acked.size, inFlight);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked;
}

/**
 * Once the stack takes money again (a probe credit answers 201), pays `later`, each of which
 * must be acknowledged (200), and adds them to `acked`: writes acknowledged after the restart
 * must pass the same checks as the rest.
 */
export async function payAfterRestart(
  baseUrl: string,
  later: readonly InventoryOrder[],
  acked: Map<string, unknown>,
): Promise<void> {
  const back = await eventually(
    async () => {
      const probe = await api('POST', `/v1/wallets/${uniqueId('probe')}/credits`, {
        token: tokenFor('operator'),
        body: { amountMinor: 1, reference: uniqueId('probe') },
        baseUrl,
      }).catch(() => undefined);
      return probe?.status === 201;
    },
    60_000,
    250,
  );
  if (!back) throw new Error('the stack took no money within 60 s of the restart');
  for (const order of later) {
    const res = await pay(order.id, order.fanId, {}, baseUrl);
    if (res.status !== 200) {
      throw new Error(`payment of ${order.id} after the restart answered ${res.status}`);
    }
    acked.set(order.id, res.body);
  }
}
