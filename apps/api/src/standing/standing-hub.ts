import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import { connectRedis, RedisClient } from '@flashdrop/persistence';
import { StandingService } from './standing.service';

/** One SSE connection watching a fan's standing. */
export interface StandingListener {
  write(frame: string): void;
}

/** API.md: a frame when the standing changes, and at least every 5 s. */
const MAX_GAP_MS = 5000;
/**
 * How often every watched drop is checked for any change (its outbox's last entry): a change
 * no script announced (a grab moving unitsPending, a position moving up) is sent within this.
 */
const POLL_MS = 1000;

class FanFeed {
  readonly listeners = new Set<StandingListener>();
  body = '';
  lastSentAt = 0;
  reading = false;
  again = false;
  seq = 0;

  constructor(
    readonly dropId: string,
    readonly fanId: string,
  ) {}
}

/**
 * The live standings watched in this process (GET /v1/drops/:id/me/live). A fan's feed is read
 * again (one standing.lua call) and sent when it changed:
 * - at once when a script announces a change for that fan or drop (a hold passed down to them,
 *   the draw's result: Redis pub/sub, so the announcement reaches every API instance);
 * - within POLL_MS of any other change of the drop (each watched drop's last outbox entry is
 *   compared once per poll, one read per drop, not per fan);
 * - and at least every MAX_GAP_MS, changed or not.
 * Connections are bounded per process and per fan (STANDING_STREAMS_MAX, _PER_FAN).
 */
@Injectable()
export class StandingHub implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(StandingHub.name);
  private readonly feeds = new Map<string, FanFeed>();
  private readonly byDrop = new Map<string, Set<FanFeed>>();
  private readonly lastEvent = new Map<string, string | undefined>();
  private subscriber?: RedisClient;
  private ticker?: NodeJS.Timeout;
  private connections = 0;

  constructor(
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly inventory: Inventory,
    private readonly standing: StandingService,
  ) {}

  onModuleInit(): void {
    const subscriber = connectRedis(this.config, {
      connectionName: 'flashdrop-api-standing',
      enableAutoPipelining: false,
      maxRetriesPerRequest: null,
    });
    Inventory.listenForStanding(subscriber, (dropId, fanId) => {
      if (fanId === undefined) {
        for (const feed of this.byDrop.get(dropId) ?? []) void this.refresh(feed);
      } else {
        const feed = this.feeds.get(feedKey(dropId, fanId));
        if (feed) void this.refresh(feed);
      }
    }).catch((e: unknown) => {
      this.logger.warn(`standing: subscribe failed (frames still go out every poll): ${String(e)}`);
    });
    this.subscriber = subscriber;
    this.ticker = setInterval(() => void this.poll(), POLL_MS);
  }

  /** Whether another stream may open: for the process, and for this fan. */
  admits(fanId: string): 'ok' | 'process-full' | 'fan-full' {
    if (this.connections >= this.config.STANDING_STREAMS_MAX) return 'process-full';
    let mine = 0;
    for (const feed of this.feeds.values()) if (feed.fanId === fanId) mine += feed.listeners.size;
    return mine >= this.config.STANDING_STREAMS_PER_FAN ? 'fan-full' : 'ok';
  }

  /** Adds a listener; it gets the standing at once. Answers the function that removes it. */
  subscribe(dropId: string, fanId: string, listener: StandingListener): () => void {
    const key = feedKey(dropId, fanId);
    let feed = this.feeds.get(key);
    if (!feed) {
      feed = new FanFeed(dropId, fanId);
      this.feeds.set(key, feed);
      let ofDrop = this.byDrop.get(dropId);
      if (!ofDrop) {
        ofDrop = new Set();
        this.byDrop.set(dropId, ofDrop);
      }
      ofDrop.add(feed);
    }
    feed.listeners.add(listener);
    this.connections += 1;
    if (feed.body) listener.write(this.frame(feed));
    else void this.refresh(feed);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.connections -= 1;
      feed.listeners.delete(listener);
      if (feed.listeners.size > 0) return;
      this.feeds.delete(key);
      const ofDrop = this.byDrop.get(dropId);
      ofDrop?.delete(feed);
      if (ofDrop?.size === 0) {
        this.byDrop.delete(dropId);
        this.lastEvent.delete(dropId);
      }
    };
  }

  get connectionCount(): number {
    return this.connections;
  }

  /** Once per POLL_MS: drops whose outbox moved are read again; quiet feeds get a heartbeat. */
  private async poll(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.byDrop].map(async ([dropId, feeds]) => {
        const last = await this.inventory.lastEventId(dropId).catch(() => undefined);
        const moved = this.lastEvent.get(dropId) !== last;
        this.lastEvent.set(dropId, last);
        for (const feed of feeds) {
          if (moved) void this.refresh(feed);
          else if (now - feed.lastSentAt >= MAX_GAP_MS - POLL_MS / 2) this.send(feed);
        }
      }),
    );
  }

  private async refresh(feed: FanFeed): Promise<void> {
    if (feed.reading) {
      feed.again = true;
      return;
    }
    feed.reading = true;
    try {
      const body = JSON.stringify(await this.standing.read(feed.dropId, feed.fanId));
      if (body !== feed.body || Date.now() - feed.lastSentAt >= MAX_GAP_MS - POLL_MS / 2) {
        feed.body = body;
        this.send(feed);
      }
    } catch (error) {
      this.logger.warn(`standing of ${feed.dropId}/${feed.fanId} failed: ${String(error)}`);
    } finally {
      feed.reading = false;
    }
    if (feed.again) {
      feed.again = false;
      void this.refresh(feed);
    }
  }

  private send(feed: FanFeed): void {
    if (!feed.body) return;
    feed.lastSentAt = Date.now();
    const frame = this.frame(feed);
    for (const listener of feed.listeners) listener.write(frame);
  }

  private frame(feed: FanFeed): string {
    feed.seq += 1;
    return `id: ${feed.seq}\ndata: ${feed.body}\n\n`;
  }

  onApplicationShutdown(): void {
    clearInterval(this.ticker);
    this.subscriber?.disconnect();
  }
}

function feedKey(dropId: string, fanId: string): string {
  return `${dropId} ${fanId}`;
}
