import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { StatsStore } from '../stats/stats-store';

/** Whoever listens to a drop's live stream (one SSE connection). */
export interface LiveListener {
  write(frame: string): void;
}

/** A frame at least this often, changed or not (docs/api.md: at least every second). */
const MAX_GAP_MS = 1000;
/** How often the hub looks for feeds that are due; with MAX_GAP_MS, bounds the longest gap. */
const TICK_MS = 200;
/** Changes closer together than this share one frame (a rush changes stats thousands of times a second). */
const MIN_GAP_MS = 100;

class DropFeed {
  readonly listeners = new Set<LiveListener>();
  lastSentAt = 0;
  sending = false;
  /** A change arrived while a frame was being built: build another right after. */
  again = false;
  timer?: NodeJS.Timeout;
  seq = 0;
}

/**
 * The live streams of every drop someone watches in this process. A drop's snapshot is read once
 * per frame and written to all its listeners. A frame goes out when the consumer announces a
 * change (Redis pub/sub, so a consumer in another instance wakes this one), at most every
 * MIN_GAP_MS, and at least every MAX_GAP_MS.
 */
@Injectable()
export class LiveHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LiveHub.name);
  private readonly feeds = new Map<string, DropFeed>();
  private subscriber?: RedisClient;
  private ticker?: NodeJS.Timeout;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly stats: StatsStore,
  ) {}

  onModuleInit(): void {
    const subscriber = connectRedis(this.config, {
      connectionName: 'flashdrop-analytics-live',
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
    });
    StatsStore.listenForChanges(subscriber, (dropIds) => {
      for (const dropId of dropIds) this.changed(dropId);
    }).catch((e: unknown) => {
      this.logger.warn(`live: subscribe failed (frames still go out every second): ${String(e)}`);
    });
    this.subscriber = subscriber;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  /** Adds a listener; it gets a snapshot at once. Answers the function that removes it. */
  subscribe(dropId: string, listener: LiveListener): () => void {
    let feed = this.feeds.get(dropId);
    if (!feed) {
      feed = new DropFeed();
      this.feeds.set(dropId, feed);
    }
    feed.listeners.add(listener);
    void this.send(dropId, feed);
    return () => {
      feed.listeners.delete(listener);
      if (feed.listeners.size === 0) {
        clearTimeout(feed.timer);
        this.feeds.delete(dropId);
      }
    };
  }

  get listenerCount(): number {
    let n = 0;
    for (const feed of this.feeds.values()) n += feed.listeners.size;
    return n;
  }

  private changed(dropId: string): void {
    const feed = this.feeds.get(dropId);
    if (!feed || feed.timer) return;
    const wait = feed.lastSentAt + MIN_GAP_MS - Date.now();
    if (wait <= 0) void this.send(dropId, feed);
    else
      feed.timer = setTimeout(() => {
        feed.timer = undefined;
        void this.send(dropId, feed);
      }, wait);
  }

  private tick(): void {
    const due = Date.now() - (MAX_GAP_MS - TICK_MS);
    for (const [dropId, feed] of this.feeds) {
      if (feed.lastSentAt <= due) void this.send(dropId, feed);
    }
  }

  private async send(dropId: string, feed: DropFeed): Promise<void> {
    if (feed.sending) {
      feed.again = true;
      return;
    }
    feed.sending = true;
    try {
      const snapshot = await this.stats.read(dropId);
      feed.seq++;
      const frame = `id: ${feed.seq}\ndata: ${JSON.stringify(snapshot)}\n\n`;
      feed.lastSentAt = Date.now();
      for (const listener of feed.listeners) listener.write(frame);
    } catch (error) {
      this.logger.warn(`live: snapshot of ${dropId} failed: ${String(error)}`);
    } finally {
      feed.sending = false;
    }
    if (feed.again) {
      feed.again = false;
      this.changed(dropId);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.ticker);
    for (const feed of this.feeds.values()) clearTimeout(feed.timer);
    this.subscriber?.disconnect();
  }
}
