import { readFileSync } from 'node:fs';
import { createKafka, Topics } from '@flashdrop/events';
import { AssignerProtocol } from 'kafkajs';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { runAudit } from '@flashdrop/audit';
import {
  api,
  contractFields,
  debitsOf,
  errorOf,
  eventually,
  fanIds,
  fund,
  openDropBody,
  OwnServices,
  pay,
  readTruth,
  ServiceProcess,
  slotPort,
  testConfig,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

const FANS = 400;
const QUANTITY = 200;
const PRICE = 1_999;
/** Winners who pay; the rest let their holds run out (holdSeconds is 10, the least allowed). */
const PAYERS = 120;
const PAY_CONCURRENCY = 24;
/** Payment acknowledgements before the worker that holds every lease is killed. */
const KILL_AFTER_ACKS = 40;

interface Envelope {
  readonly id: string;
  readonly type: string;
  readonly key: string;
  readonly data: { readonly orderId?: string };
}

interface LeaseLine {
  readonly name: string;
  readonly at: number;
  readonly lost: boolean;
}

/**
 * What a worker's log says of its leases: each take, and each loss, of which singleton and when
 * (SingletonLoop logs both; the worker writes JSON lines with `time` in ms).
 */
function leaseLines(logFile: string): LeaseLine[] {
  const out: LeaseLine[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const taken = line.includes('took the lease');
    if (!taken && !line.includes('lease lost')) continue;
    let entry: { time: number; context?: string };
    try {
      entry = JSON.parse(line) as { time: number; context?: string };
    } catch {
      continue; // not one of the logger's lines
    }
    const name = /^SingletonLoop:locks:(.+)$/.exec(entry.context ?? '')?.[1];
    if (name) out.push({ name, at: entry.time, lost: !taken });
  }
  return out;
}

function leasesTaken(logFile: string): Set<string> {
  return new Set(
    leaseLines(logFile)
      .filter((l) => !l.lost)
      .map((l) => l.name),
  );
}

/** A stream entry id `<ms>-<seq>` as one number that orders entries as Redis does. */
function entryOrder(eventId: string): bigint {
  const [ms, seq] = eventId.slice(eventId.lastIndexOf(':') + 1).split('-');
  return BigInt(ms) * 1_000_000n + BigInt(seq);
}

/**
 * Two API instances (scripts/instances.js), two workers and two analytics instances on one
 * Redis, database and topics of the test's own, under a rush, payments and expiring holds. The worker that started first holds
 * every singleton's lease; it is killed with kill -9 in the middle of the payments, while the
 * unpaid holds are coming due, and started again. The other takes the leases over. Afterwards:
 * exactly the quantity sold, every order paid once or expired once (the sweeper and the relay
 * ran once across the two), every order in sales.orders with its final status, Kafka has no
 * drop event that came first after a later one of the same drop (the analytics high-water mark
 * would drop it), the two analytics instances shared the topics' partitions in their one
 * consumer group and the drop's stats equal the stored truth, and the audit is clean.
 */
describe('two API instances and two workers: singletons stay single across a kill -9', () => {
  // 51x1-51x6 (x = slot): no other base is within 90 of them.
  const own = new OwnServices({
    run: ['wallet'],
    ports: { api: slotPort(5101), wallet: slotPort(5102), worker: slotPort(5103) },
    redisPort: slotPort(5106),
    database: { fresh: 'two_workers', schemas: ['sales', 'wallet', 'webhooks'] },
    topics: 'twowork',
    tails: [Topics.sales],
    redisOptions: { maxRetriesPerRequest: 20 },
  });
  const baseUrl = own.apiUrl;
  let apis: ServiceProcess;
  let first: ServiceProcess;
  let second: ServiceProcess;
  // Two analytics processes in one consumer group (the same KAFKA_CLIENT_ID): the API forwards
  // the stats route to the first; the drop's partition may be the other's.
  const analyticsPorts = [slotPort(5105), slotPort(5107)];
  const analytics = analyticsPorts.map(
    (port, i) =>
      new ServiceProcess(
        'analytics',
        { ...own.env, ANALYTICS_HTTP_PORT: String(port) },
        `/tmp/flashdrop-analytics-${i}-${process.pid}.log`,
      ),
  );
  const worker = (label: string, port: number) =>
    new ServiceProcess(
      'worker',
      // info: SingletonLoop logs each lease it takes at that level (the test profile has warn).
      { ...own.env, WORKER_HTTP_PORT: String(port), LOG_LEVEL: 'info' },
      `/tmp/flashdrop-worker-${label}-${process.pid}.log`,
    );
  const live = (port: number) => `http://127.0.0.1:${port}/health/live`;

  beforeAll(async () => {
    await own.start();
    for (const a of analytics) a.start();
    await Promise.all(
      analytics.map((a, i) => a.waitForHttp(`http://127.0.0.1:${analyticsPorts[i]}/health/live`)),
    );
    apis = new ServiceProcess(
      'api',
      { ...own.env, ANALYTICS_HTTP_PORT: String(analyticsPorts[0]) },
      undefined,
      undefined,
      2,
    );
    apis.start();
    await apis.waitForHttp(`${baseUrl}/health/live`);
    first = worker('first', own.port('worker'));
    first.start();
    await first.waitForHttp(live(own.port('worker')));
    // The first worker holds the sweeper's and the relay's leases before the second starts.
    const leading = await eventually(
      async () => ['hold-sweeper', 'relay:streams'].every((n) => leasesTaken(first.logFile).has(n)),
      30_000,
    );
    expect(leading).toBe(true);
    second = worker('second', slotPort(5104));
    second.start();
    await second.waitForHttp(live(slotPort(5104)));
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    await apis?.stop();
    for (const a of analytics) await a.stop();
    await own.stop();
  }, 60_000);

  it('sells the quantity once, pays or expires each order once, keeps each drop in order; audit clean', async () => {
    const fans = fanIds(FANS);
    await fund(fans, 2 * PRICE, baseUrl);
    const created = await api<{ id: string }>('POST', '/v1/drops', {
      token: tokenFor('brand', uniqueId('brand')),
      body: openDropBody({ quantity: QUANTITY, priceMinor: PRICE, holdSeconds: 10 }),
      baseUrl,
    });
    expect(created.status).toBe(201);
    const dropId = created.body.id;

    const grabs = await Promise.all(
      fans.map((fanId) =>
        api<{ id: string; fanId: string }>('POST', `/v1/drops/${dropId}/purchases`, {
          token: tokenFor('fan', fanId),
          body: { quantity: 1 },
          baseUrl,
        }),
      ),
    );
    const orders = grabs.filter((r) => r.status === 201).map((r) => r.body);
    expect(orders).toHaveLength(QUANTITY);
    expect(new Set(grabs.filter((r) => r.status !== 201).map(errorOf))).toEqual(
      new Set(['SOLD_OUT']),
    );

    // Payments, PAY_CONCURRENCY in flight; the leading worker dies part-way through them.
    const payers = orders.slice(0, PAYERS);
    const acked = new Set<string>();
    let next = 0;
    let killedAt = -1;
    let killedAtMs = 0;
    const payLoop = async () => {
      while (next < payers.length) {
        const o = payers[next++];
        const res = await pay(o.id, o.fanId, {}, baseUrl);
        if (res.status === 200) acked.add(o.id);
        if (killedAt < 0 && acked.size >= KILL_AFTER_ACKS) {
          killedAt = acked.size;
          killedAtMs = Date.now();
          first.kill9();
        }
      }
    };
    await Promise.all(Array.from({ length: PAY_CONCURRENCY }, payLoop));
    expect(killedAt).toBeGreaterThan(0);
    // Nothing else may fail a payment here: the holds are 10 s, the wallet is up.
    expect(acked.size).toBe(PAYERS);
    // The second takes the dead worker's leases as each runs out (the relay's after 5 s). Only
    // then does the first come back: started sooner, it could win a lease back the moment it ran
    // out, and which worker held the relay would be a race (RUN B, session 7, at load 10: the
    // second had taken the sweeper's lease, the restarted first the relay's).
    const takenOver = await eventually(
      async () =>
        ['hold-sweeper', 'relay:streams'].every((n) => leasesTaken(second.logFile).has(n)),
      30_000,
      250,
    );
    expect(takenOver).toBe(true);
    first.start();
    await first.waitForHttp(live(own.port('worker')));

    // The unpaid holds expire (10 s after the rush) under the second worker's sweeper.
    const inventory = new Inventory(own.redis);
    const settled = await eventually(
      async () => {
        const statuses = await Promise.all(
          orders.map(async (o) => (await inventory.getOrder(o.id))?.status),
        );
        return statuses.every((s) => s === 'paid' || s === 'expired');
      },
      60_000,
      500,
    );
    expect(settled).toBe(true);
    const finalStatus = new Map<string, string | undefined>();
    for (const o of orders) finalStatus.set(o.id, (await inventory.getOrder(o.id))?.status);
    expect(
      orders.filter((o) => finalStatus.get(o.id) !== (acked.has(o.id) ? 'paid' : 'expired')),
    ).toEqual([]);
    // The leases moved to the second worker when the first died, and not before: while the
    // first lived, the second took no lease the first had not lost (each singleton ran in one
    // worker at a time).
    expect([...leasesTaken(second.logFile)]).toEqual(
      expect.arrayContaining(['hold-sweeper', 'relay:streams']),
    );
    const firstLost = leaseLines(first.logFile).filter((l) => l.lost);
    const overlapping = leaseLines(second.logFile).filter(
      (l) =>
        !l.lost &&
        l.at < killedAtMs &&
        !firstLost.some((lost) => lost.name === l.name && lost.at <= l.at),
    );
    expect(overlapping).toEqual([]);

    // Every order's events reached Kafka: its grab, then its payment or its expiry.
    const tail = own.tail(Topics.sales);
    const mine = () => tail.values<Envelope>().filter((e) => e.key === dropId);
    const ending = (orderId: string) => (acked.has(orderId) ? 'order.paid' : 'hold.expired');
    const complete = await eventually(
      async () => {
        const seen = new Set(mine().map((e) => `${e.type}/${e.data.orderId}`));
        return orders.every(
          (o) => seen.has(`grab.accepted/${o.id}`) && seen.has(`${ending(o.id)}/${o.id}`),
        );
      },
      60_000,
      500,
    );
    expect(complete).toBe(true);
    // Once each (a re-sent copy keeps its id), and in each partition no event of the drop came
    // first after a later one: two relays never interleaved the drop's stream.
    const distinct = new Map<string, Envelope>();
    for (const e of mine()) distinct.set(e.id, e);
    const countOf = (type: string, orderId: string) =>
      [...distinct.values()].filter((e) => e.type === type && e.data.orderId === orderId).length;
    expect(
      orders.filter(
        (o) =>
          countOf('grab.accepted', o.id) !== 1 ||
          countOf('order.paid', o.id) !== (acked.has(o.id) ? 1 : 0) ||
          countOf('hold.expired', o.id) !== (acked.has(o.id) ? 0 : 1),
      ),
    ).toEqual([]);
    const reordered: string[] = [];
    const highest = new Map<number, bigint>();
    const firstSeen = new Set<string>();
    for (const m of tail.messages) {
      const e = JSON.parse(m.value) as Envelope;
      if (e.key !== dropId || firstSeen.has(e.id)) continue;
      firstSeen.add(e.id);
      const at = entryOrder(e.id);
      if (at <= (highest.get(m.partition) ?? -1n)) reordered.push(e.id);
      else highest.set(m.partition, at);
    }
    expect(reordered).toEqual([]);

    // sales.orders (the worker's order persistence) has each order once, with its final status.
    const persisted = await eventually(
      async () => {
        const rows: { id: string; status: string }[] = await own.db.query(
          'SELECT id, status FROM sales.orders WHERE drop_id = $1',
          [dropId],
        );
        return rows.length === QUANTITY && rows.every((r) => r.status === finalStatus.get(r.id));
      },
      60_000,
      500,
    );
    expect(persisted).toBe(true);
    const debits = await debitsOf(
      own.db,
      orders.map((o) => o.id),
    );
    expect(payers.filter((o) => debits.get(o.id)?.count !== 1)).toEqual([]);
    expect(debits.size).toBe(PAYERS);
    expect((await runAudit(inventory, new LedgerFacts(own.db), [dropId])).breaches).toEqual([]);

    // Both analytics instances are members of the one group, each with partitions of its own,
    // and the stats (counted by whichever holds the drop's partition) equal the stored truth.
    const kafka = createKafka(uniqueId('flashdrop-twowork-admin'), testConfig().kafkaBrokers);
    const admin = kafka.admin();
    await admin.connect();
    let assigned: number[];
    try {
      const groupId = `${own.env.KAFKA_CLIENT_ID}-analytics`;
      const [group] = (await admin.describeGroups([groupId])).groups;
      assigned = group.members.map((m) => {
        const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        return Object.values(decoded?.assignment ?? {}).reduce((n, ps) => n + ps.length, 0);
      });
    } finally {
      await admin.disconnect();
    }
    expect(assigned).toHaveLength(2);
    expect(assigned.every((n) => n > 0)).toBe(true);
    const truth = await readTruth(inventory, dropId);
    const statsEqual = await eventually(
      async () => {
        const res = await api('GET', `/v1/drops/${dropId}/stats`, {
          token: tokenFor('operator'),
          baseUrl,
        });
        return (
          res.status === 200 &&
          JSON.stringify(contractFields(res.body as object)) === JSON.stringify(truth)
        );
      },
      60_000,
      500,
    );
    expect(statsEqual).toBe(true);
    console.log(
      `two workers: ${QUANTITY} sold of ${FANS} grabs, ${PAYERS} paid (the leading worker killed ` +
        `after ${killedAt} acknowledgements), ${QUANTITY - PAYERS} expired, ` +
        `${mine().length - distinct.size} re-sent copies on Kafka, 0 reordered; analytics x2 ` +
        `with ${assigned.join(' + ')} partitions, stats equal to the truth`,
    );
  }, 240_000);
});
