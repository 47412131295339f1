import { Inventory } from '@flashdrop/inventory';
import {
  api,
  contractFields,
  DedicatedKafka,
  DedicatedRedis,
  eventually,
  readTruth,
  SaleTruth,
  ServiceProcess,
  slotPort,
  tokenFor,
} from '@flashdrop/testing';
import Redis from 'ioredis';
import { createOpenDrop, mixedBurst } from './sale-traffic';

/**
 * Crash safety of the event pipeline: during a burst of mixed traffic, `kill -9` Kafka, then the
 * worker that relays the outbox streams, then the analytics service; restart all three, and the
 * stats converge to the stored truth: nothing counted twice, nothing lost. Everything killed is
 * the test's own: a Redis, a Kafka broker, a worker and an analytics process on ports of this
 * test slot (the worker leads only the stream relay: the wallet's table belongs to the stack).
 */
describe('event pipeline survives kill -9 of Kafka, the relaying worker and analytics mid-burst', () => {
  const redisServer = new DedicatedRedis(slotPort(6396));
  const kafkaServer = new DedicatedKafka(slotPort(9196), slotPort(9197));
  const port = slotPort(3457);
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    REDIS_URL: redisServer.url,
    KAFKA_BROKERS: kafkaServer.brokers,
    ANALYTICS_HTTP_PORT: String(port),
    KAFKA_TOPIC_PREFIX: 'crash.',
  };
  const analytics = new ServiceProcess('analytics', env);
  const worker = new ServiceProcess('worker', {
    ...env,
    WORKER_HTTP_PORT: String(slotPort(3458)),
    RELAYS: 'streams',
  });
  let redis: Redis;

  beforeAll(async () => {
    redisServer.start();
    kafkaServer.start();
    kafkaServer.createTopics(env);
    analytics.start();
    worker.start();
    await analytics.waitForHttp(`${baseUrl}/health/live`);
    await worker.waitForHttp(`http://127.0.0.1:${slotPort(3458)}/health/live`);
    redis = new Redis(redisServer.url);
  }, 120_000);

  afterAll(async () => {
    await worker.stop();
    await analytics.stop();
    redis?.disconnect();
    kafkaServer.stop();
    redisServer.stop();
  }, 60_000);

  it('converges to the truth after the three crashes', async () => {
    const inventory = new Inventory(redis);

    const drops: string[] = [];
    for (let i = 0; i < 3; i++) drops.push(await createOpenDrop(inventory, { quantity: 150 }));
    const operator = tokenFor('operator');
    const stats = (dropId: string) =>
      api<SaleTruth>('GET', `/v1/drops/${dropId}/stats`, { token: operator, baseUrl });

    // Waves of mixed traffic on all three drops; the crashes and restarts land between waves.
    const waves = 10;
    let restarted: Promise<void> | undefined;
    for (let wave = 0; wave < waves; wave++) {
      // The reservations are announced by the worker's ReservationCounter alone, which is
      // killed with the rest: what it had not announced must be announced after its restart.
      await Promise.all(drops.map((d) => mixedBurst(inventory, d, 50, `w${wave}`, false)));
      if (wave === 2) {
        // Stats were moving before the crash.
        expect(await eventually(async () => (await stats(drops[0])).body.grabAttempts > 0)).toBe(
          true,
        );
        kafkaServer.kill9();
      }
      if (wave === 3) worker.kill9();
      if (wave === 4) analytics.kill9();
      if (wave === 6) {
        // With the worker dead, reservations waited to be announced: its successor must.
        const pending = await Promise.all(drops.map((d) => inventory.counters(d)));
        expect(pending.every((c) => c.reservationsPending > 0)).toBe(true);
        restarted = (async () => {
          kafkaServer.start();
          worker.start();
          analytics.start();
          await analytics.waitForHttp(`${baseUrl}/health/live`, 60_000);
        })();
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    await restarted;

    for (const dropId of drops) {
      const truth = await readTruth(inventory, dropId);
      const converged = await eventually(
        async () => {
          const res = await stats(dropId);
          return JSON.stringify(contractFields(res.body)) === JSON.stringify(truth);
        },
        60_000,
        250,
      );
      const last = await stats(dropId);
      expect({ converged, stats: contractFields(last.body) }).toEqual({
        converged: true,
        stats: truth,
      });
      // The burst was real: sold out, with payments, expiries, cancels and refusals.
      expect(truth.soldOutAt).not.toBeNull();
      expect(truth.paid * truth.expired * truth.cancelled).toBeGreaterThan(0);
    }
    const metrics = await api<string>('GET', '/metrics', { baseUrl });
    console.log(
      `analytics after its restart: ` +
        metrics.body
          .split('\n')
          .filter((l) => l.startsWith('analytics_events_'))
          .join(', '),
    );
  }, 240_000);
});
