import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import {
  api,
  balancesOf,
  eventually,
  fanIds,
  fund,
  heldOrders,
  OwnServices,
  pay,
  slotPort,
  tokenFor,
} from '@flashdrop/testing';
import { WalletClient } from '@flashdrop/wallet-client';
import { RefundRecovery } from '../src/refund-recovery/refund-recovery';

const ORDERS = 80;
const CONCURRENCY = 16;
const PRICE = 1_999;
const KILL_AFTER_ACKS = 15;

/**
 * kill -9 of the wallet in the middle of a storm of refunds (apps/wallet/PAYMENTS.md
 * "Refunds"): a refund the API acknowledged stays refunded, none is refunded twice, and every
 * refund the crash left `refunding` is finished by the recovery job once the wallet is back.
 */
describe('refunds survive kill -9 of the wallet', () => {
  const own = new OwnServices({
    run: ['wallet', 'api'],
    ports: { wallet: slotPort(3378), api: slotPort(3377) },
    env: { WALLET_TIMEOUT_MS: '3000' },
  });
  let client: WalletClient;

  beforeAll(async () => {
    await own.start();
    client = own.walletClient(3000);
  }, 60_000);

  afterAll(() => own.stop());

  it('nothing acknowledged lost, nothing refunded twice, nothing left refunding; audit clean', async () => {
    const { redis, db, apiUrl: baseUrl } = own;
    const inventory = new Inventory(redis);
    const recovery = new RefundRecovery(inventory, client);
    const fans = fanIds(ORDERS);
    await fund(fans, 2 * PRICE, baseUrl);
    const { drop, orders } = await heldOrders(inventory, fans, { priceMinor: PRICE });
    for (const o of orders) expect((await pay(o.id, o.fanId, {}, baseUrl)).status).toBe(200);

    const operator = tokenFor('operator');
    const acked = new Set<string>();
    let killed = false;
    let restarted: Promise<void> | undefined;
    let next = 0;
    const worker = async () => {
      while (next < orders.length) {
        const o = orders[next++];
        const res = await api('POST', `/v1/orders/${o.id}/refund`, {
          token: operator,
          body: { reason: 'crash test' },
          baseUrl,
        }).catch(() => undefined);
        if (res?.status !== 200) continue;
        acked.add(o.id);
        if (!killed && acked.size >= KILL_AFTER_ACKS) {
          killed = true;
          own.kill9('wallet');
          restarted = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() =>
            own.restart('wallet'),
          );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(killed).toBe(true);
    await restarted;

    const statuses = () =>
      Promise.all(orders.map(async (o) => (await inventory.getOrder(o.id))?.status));
    const settled = await eventually(
      async () => {
        await recovery.recoverOnce(0);
        return !(await statuses()).includes('refunding');
      },
      30_000,
      500,
    );
    expect(settled).toBe(true);

    const after = await statuses();
    const refunds = new Map(
      (
        (await db.query(
          `SELECT order_id, count(*)::int AS n FROM wallet.transfers
           WHERE kind = 'refund' AND order_id = ANY($1) GROUP BY order_id`,
          [orders.map((o) => o.id)],
        )) as { order_id: string; n: number }[]
      ).map((r) => [r.order_id, r.n]),
    );
    const balances = await balancesOf(db, fans);
    orders.forEach((o, i) => {
      if (acked.has(o.id)) expect(after[i]).toBe('refunded');
      if (after[i] === 'refunded') {
        expect(refunds.get(o.id)).toBe(1);
        expect(balances.get(o.fanId)).toBe(2 * PRICE);
      } else {
        // Its refund never began (the request died before the fence): still paid, not refunded.
        expect(after[i]).toBe('paid');
        expect(refunds.get(o.id)).toBeUndefined();
        expect(balances.get(o.fanId)).toBe(PRICE);
      }
    });
    const recovered = after.filter((s, i) => s === 'refunded' && !acked.has(orders[i].id)).length;
    console.log(
      `refunds, wallet kill -9: ${acked.size} acknowledged, ${recovered} finished by recovery, ` +
        `${after.filter((s) => s === 'paid').length} never begun`,
    );
    expect((await runAudit(inventory, new LedgerFacts(db), [drop.id])).breaches).toEqual([]);
  }, 180_000);
});
