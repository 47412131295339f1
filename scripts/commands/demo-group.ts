import { performance } from 'node:perf_hooks';
import { Traffic } from './demo-traffic';

export interface GroupDemoOptions {
  readonly groups: number;
  readonly size: number;
  readonly run: string;
  readonly api: string;
  readonly fanToken: (sub: string) => string;
  readonly brand: string;
  readonly operator: string;
}

interface GroupView {
  members: number;
  paidMembers: number;
  expiresAt: string;
  status: 'open' | 'complete' | 'failed';
}

const PRICE = 9_900;
const DISCOUNT = 1_000;
/** The shortest group clock the contract allows: the failed groups end while the demo waits. */
const GROUP_SECONDS = 60;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (n: number) => n.toLocaleString('en-US');
const money = (minor: number) => `¥${(minor / 100).toFixed(2)}`;

function tally(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Group buy (拼团, API.md "Campaigns"): fans start groups and friends join through the group id
 * (the share link), half of them having shared the drop first for its discount; every member
 * of most groups pays (their money waits in the drop's escrow until the last member pays, then
 * every member is paid at once), and in the rest one member never pays, so at the group's
 * deadline the worker refunds its paid members and puts the units back.
 */
export async function groupDemo(http: Traffic, o: GroupDemoOptions): Promise<void> {
  const fans = o.groups * o.size;
  console.log(
    `\ngroup buy: ${count(o.groups)} groups of ${o.size} on a drop of ${count(fans)} units ` +
      `(${money(PRICE)}, ${money(DISCOUNT)} off for a fan who shared it first)`,
  );
  const fanId = (g: number, m: number) => `demo-${o.run}-group-${g}-${m}`;
  const drop = await http.json<{ id: string }>('POST', '/v1/drops', o.brand, {
    title: 'Demo phone case, group buy',
    sku: `CASE-GROUP-${o.run}`,
    priceMinor: PRICE,
    currency: 'CNY',
    quantity: fans,
    reservationRequired: false,
    saleStartsAt: new Date(Date.now() - 1_000).toISOString(),
    holdSeconds: 600,
    groupSize: o.size,
    groupSeconds: GROUP_SECONDS,
    shareDiscountMinor: DISCOUNT,
  });

  // Every other fan shares first (the discount is decided in the grab's step from that record).
  await http.each(fans, async (i) => {
    if (i % 2 !== 0) return;
    const fan = fanId(Math.floor(i / o.size), i % o.size);
    await http.send('POST', `/v1/drops/${drop.id}/shares`, o.fanToken(fan), { channel: 'wechat' });
  });

  // Each group's first member starts it; its friends join through its id, all at once.
  const codes = new Map<string, number>();
  const orders = new Map<string, { id: string; amountMinor: number }>();
  const grab = async (g: number, m: number, groupId?: string) => {
    const res = await http.send(
      'POST',
      `/v1/drops/${drop.id}/purchases`,
      o.fanToken(fanId(g, m)),
      groupId === undefined ? {} : { groupId },
    );
    tally(codes, String(res.status));
    if (res.status !== 201) return undefined;
    const order = JSON.parse(res.body) as { id: string; amountMinor: number; groupId: string };
    orders.set(fanId(g, m), order);
    return order.groupId;
  };
  const t0 = performance.now();
  const groupIds: string[] = new Array<string>(o.groups);
  await http.each(o.groups, async (g) => {
    groupIds[g] = (await grab(g, 0)) ?? '';
  });
  await http.each(o.groups * (o.size - 1), async (k) => {
    const g = Math.floor(k / (o.size - 1));
    if (groupIds[g]) await grab(g, 1 + (k % (o.size - 1)), groupIds[g]);
  });
  const discounted = [...orders.values()].filter((x) => x.amountMinor < PRICE).length;
  console.log(
    `group buy: ${count(orders.size)} holds in ${((performance.now() - t0) / 1000).toFixed(2)} s ` +
      `(${count(discounted)} at the discounted price) ${JSON.stringify(Object.fromEntries(codes))}`,
  );

  // Every member pays, except one member of every fifth group: that group will fail.
  const failing = (g: number) => g % 5 === 4;
  const payCodes = new Map<string, number>();
  await http.each(fans, async (i) => {
    const g = Math.floor(i / o.size);
    const m = i % o.size;
    const order = orders.get(fanId(g, m));
    if (!order || (failing(g) && m === o.size - 1)) return;
    const credit = await http.send('POST', `/v1/wallets/${fanId(g, m)}/credits`, o.operator, {
      amountMinor: order.amountMinor,
      reference: `demo-${o.run}-group-${g}-${m}`,
    });
    if (credit.status >= 300) return tally(payCodes, `credit ${credit.status}`);
    const paid = await http.send('POST', `/v1/orders/${order.id}/payment`, o.fanToken(fanId(g, m)));
    const status = paid.status === 200 ? (JSON.parse(paid.body) as { status: string }).status : '';
    tally(payCodes, paid.status === 200 ? status : `payment ${paid.status}`);
  });
  const statuses = async () => {
    const by = new Map<string, number>();
    let latest = 0;
    await http.each(o.groups, async (g) => {
      if (!groupIds[g]) return;
      const v = await http.json<GroupView>('GET', `/v1/drops/${drop.id}/groups/${groupIds[g]}`);
      tally(by, v.status);
      latest = Math.max(latest, Date.parse(v.expiresAt));
    });
    return { by, latest };
  };
  const afterPay = await statuses();
  console.log(
    `group buy: payments ${JSON.stringify(Object.fromEntries(payCodes))} (grouped: in escrow ` +
      `until the group is full); groups now ${JSON.stringify(Object.fromEntries(afterPay.by))}`,
  );

  // The open groups fail at their deadline: the worker's group sweeper refunds their paid
  // members from escrow and puts every unit back.
  const open = afterPay.by.get('open') ?? 0;
  if (open > 0) {
    const wait = Math.max(0, afterPay.latest - Date.now());
    console.log(
      `group buy: waiting ${(wait / 1000).toFixed(0)} s for the ${count(open)} open groups' deadline ...`,
    );
    await sleep(wait + 1_000);
    let final = afterPay;
    for (let waited = 0; waited < 30_000 && (final.by.get('open') ?? 0) > 0; waited += 1_000) {
      final = await statuses();
      if ((final.by.get('open') ?? 0) > 0) await sleep(1_000);
    }
    console.log(`group buy: groups at the end ${JSON.stringify(Object.fromEntries(final.by))}`);
  }
  const stats = await http
    .json<Record<string, number>>('GET', `/v1/drops/${drop.id}/stats`, o.operator)
    .catch(() => undefined);
  if (stats) {
    console.log(
      `group buy: stats: paid ${count(stats.paid)}, refunded ${count(stats.refunded)}, ` +
        `revenue ${money(stats.revenueMinor)}, remaining ${count(stats.remaining)} of ${count(fans)}`,
    );
  }
  console.log(`group buy: watch it: ${o.api}/ops  (drop ${drop.id})`);
}
