import { newDropId } from '@flashdrop/inventory';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { testConfig } from '@flashdrop/testing';
import { STATS_CHANGED_CHANNEL } from '../stats/analytics-keys';
import { StatsStore } from '../stats/stats-store';
import { LiveHub } from './live-hub';

/** Taken before jest fakes the timers: the test's own waits for real I/O run on these. */
const realSetImmediate = setImmediate;
const realSetTimeout = setTimeout;

/** The real store, counting the snapshot reads still on their way back from Redis. */
class WatchedStats extends StatsStore {
  inFlight = 0;

  override async read(...args: Parameters<StatsStore['read']>) {
    this.inFlight++;
    try {
      return await super.read(...args);
    } finally {
      this.inFlight--;
    }
  }
}

/**
 * The live stream's cadence (docs/api.md: a frame at least every second, and within ~100 ms of a
 * change) on jest's fake clock: the hub's timers and Date.now are the test's to move, while its
 * snapshots come from the real Redis and its change announcements through real pub/sub. After
 * each step of the clock the test waits (for real) until the hub's reads are answered, so what
 * it measures is the hub's own schedule, in simulated milliseconds, whatever the box's load.
 */
describe('LiveHub cadence (fake clock, real Redis)', () => {
  let redis: RedisClient;
  let stats: WatchedStats;
  let hub: LiveHub;
  /** Announcements the hub has received from pub/sub (it calls its `changed` for each drop). */
  let announced = 0;

  beforeEach(async () => {
    redis = connectRedis(testConfig());
    await redis.ping();
    // Only the hub's scheduling is faked; I/O callbacks (setImmediate, nextTick) stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    stats = new WatchedStats(redis);
    hub = new LiveHub(testConfig(), stats);
    announced = 0;
    const changed = (hub as unknown as { changed: (id: string) => void }).changed.bind(hub);
    (hub as unknown as { changed: (id: string) => void }).changed = (id) => {
      announced++;
      changed(id);
    };
    hub.onModuleInit();
    // The hub listens once an announcement reaches it (other processes' subscribers on the
    // shared server answer PUBSUB NUMSUB too, so count what reaches this hub instead).
    await untilReal(async () => {
      await redis.publish(STATS_CHANGED_CHANNEL, 'no-such-drop');
      return announced > 0;
    });
  });

  afterEach(async () => {
    // The hub's timers were the fake clock's: they go with it; its subscriber closes for real.
    jest.useRealTimers();
    await hub.onApplicationShutdown();
    redis.disconnect();
  });

  /** Waits (real time, not the fake clock) until `done`; polls every few real milliseconds. */
  async function untilReal(done: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
    const started = performance.now();
    while (!(await done())) {
      if (performance.now() - started > timeoutMs) throw new Error('gave up waiting for the hub');
      await new Promise((resolve) => realSetTimeout(resolve, 5));
    }
  }

  /** Lets the hub finish what the last clock step started: its snapshot reads answered and written. */
  async function settle() {
    await untilReal(() => stats.inFlight === 0);
    // What follows a read's answer (the frame written to the listeners) runs in later microtasks.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => realSetImmediate(resolve));
  }

  /** Moves the fake clock `ms` forward in `step` ms steps, settling after each. */
  async function advance(ms: number, step = 10) {
    for (let t = 0; t < ms; t += step) {
      jest.advanceTimersByTime(step);
      await settle();
    }
  }

  /** A listener that records the fake time of each frame and its sequence number. */
  function watch(dropId: string) {
    const frames: { at: number; seq: number }[] = [];
    const unsubscribe = hub.subscribe(dropId, {
      write: (frame) => frames.push({ at: Date.now(), seq: Number(/^id: (\d+)/.exec(frame)?.[1]) }),
    });
    return { frames, unsubscribe };
  }

  const gapsOf = (frames: { at: number }[]) => frames.slice(1).map((f, i) => f.at - frames[i].at);

  it('a drop that never changes gets a frame at once and then at least once a second (30 simulated s)', async () => {
    const start = Date.now();
    const { frames, unsubscribe } = watch(newDropId());
    await settle();
    // The snapshot at once, on subscribing: no tick waited for.
    expect(frames.map((f) => f.at - start)).toEqual([0]);
    await advance(30_000);
    unsubscribe();
    const gaps = gapsOf(frames);
    console.log(
      `no changes: ${frames.length} frames in 30 s, gaps ${Math.min(...gaps)}-${Math.max(...gaps)} ms`,
    );
    // At least every second, and without changes no faster than twice a second.
    expect(gaps.filter((g) => g > 1000)).toEqual([]);
    expect(gaps.filter((g) => g < 500)).toEqual([]);
    expect(frames.length).toBeGreaterThanOrEqual(31);
    // One frame per snapshot, numbered in order.
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
  }, 120_000);

  it('a storm of changes gets a frame every 100 ms, never closer, and the second cadence stays under it', async () => {
    const dropId = newDropId();
    const { frames, unsubscribe } = watch(dropId);
    await settle();
    // A quiet 300 ms, then one change: its frame goes at once (the last one is 100 ms old or more).
    await advance(300);
    let before = frames.length;
    let seen = announced;
    const changedAt = Date.now();
    await redis.publish(STATS_CHANGED_CHANNEL, dropId);
    await untilReal(() => announced > seen);
    await settle();
    expect(frames.slice(before).map((f) => f.at - changedAt)).toEqual([0]);

    // Two seconds of a change every 10 ms: frames are spaced MIN_GAP_MS (100 ms), not 10.
    before = frames.length;
    const stormStart = Date.now();
    for (let t = 0; t < 2000; t += 10) {
      seen = announced;
      await redis.publish(STATS_CHANGED_CHANNEL, dropId);
      await untilReal(() => announced > seen);
      jest.advanceTimersByTime(10);
      await settle();
    }
    const storm = frames.slice(before - 1);
    const gaps = gapsOf(storm);
    console.log(
      `a change every 10 ms for 2 s: ${storm.length - 1} frames, gaps ${Math.min(...gaps)}-${Math.max(...gaps)} ms`,
    );
    expect(gaps.filter((g) => g < 100)).toEqual([]);
    expect(gaps.filter((g) => g > 110)).toEqual([]);
    expect(storm[storm.length - 1].at - stormStart).toBeGreaterThanOrEqual(1900);
    expect(storm.length - 1).toBeGreaterThanOrEqual(19);

    // The changes stop: back to the once-a-second frames, never a gap over a second.
    before = frames.length;
    await advance(5000);
    unsubscribe();
    const quiet = gapsOf(frames.slice(before - 1));
    expect(quiet.filter((g) => g > 1000)).toEqual([]);
    expect(frames.length - before).toBeGreaterThanOrEqual(5);
  }, 180_000);
});
