import {
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { withTimeout } from './timing';
import Redis, { Cluster, NatMap, RedisOptions } from 'ioredis';
import { COMMAND_TIMED_OUT, keepCommandDeadline } from './command-deadline';
import { logRedisErrors } from './server-logs';

/**
 * A connection to one Redis or to a Redis Cluster. Both speak the same commands; on a cluster
 * each command (and each script) must name keys of one slot only, which every key family of
 * Flashdrop is laid out for (libs/inventory/README.md "Keys").
 */
export type RedisClient = Redis | Cluster;

/** What a caller may tune on a connection, for one Redis and a cluster alike. */
export type RedisConnectOptions = Pick<
  RedisOptions,
  | 'connectionName'
  | 'maxRetriesPerRequest'
  | 'enableAutoPipelining'
  | 'connectTimeout'
  | 'autoResendUnfulfilledCommands'
> & {
  /**
   * Cluster only: where this process reaches each node, by the address the node announces
   * (`host:port`), when that is not where it can be reached (NAT, a container network; in
   * tests, a proxy per node that can cut this process off from one node).
   */
  readonly natMap?: NatMap;
  /**
   * A deadline on every command, in ms: one not answered within it fails with ioredis' own
   * "Command timed out" (isRedisUnavailable). Kept by one sweep per connection
   * (command-deadline.ts), not by ioredis' `commandTimeout`, which arms a timer per command.
   */
  readonly commandDeadlineMs?: number;
};

const DEFAULTS = {
  enableAutoPipelining: true,
  maxRetriesPerRequest: 2,
  connectTimeout: 2000,
} satisfies RedisConnectOptions;

const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1000);

/**
 * Commands whose key ioredis cannot locate (a subcommand comes first: `XGROUP CREATE <key>`,
 * `XINFO GROUPS <key>`, `MEMORY USAGE <key>`). On a cluster an auto-pipelined one would join
 * the pipeline of the node serving the subcommand's name and be answered MOVED among commands
 * that succeeded, which ioredis does not retry; sent alone, a MOVED is followed. Both spellings:
 * `call('XINFO', ...)` names the command as written.
 */
const CLUSTER_UNPIPELINED = ['xgroup', 'xinfo', 'memory', 'object'].flatMap((c) => [
  c,
  c.toUpperCase(),
]);

/**
 * A connection to one Redis server by URL (a test's dedicated server, the bench's own).
 * Auto-pipelining batches the commands of concurrent requests into one write, which is most of
 * the grab's throughput; `maxRetriesPerRequest` bounds how long a request waits while Redis is
 * down, so callers fail rather than hang.
 */
export function createRedis(url: string, options: RedisConnectOptions = {}): Redis {
  const { commandDeadlineMs, ...redisOptions } = options;
  const client = new Redis(url, { ...DEFAULTS, retryStrategy, ...redisOptions });
  logRedisErrors(client, options.connectionName ?? 'client');
  return commandDeadlineMs === undefined ? client : keepCommandDeadline(client, commandDeadlineMs);
}

/**
 * The one connection factory of every process: one Redis at REDIS_URL, or a Redis Cluster
 * (ioredis `Cluster`) when REDIS_CLUSTER_NODES is set. On a cluster, auto-pipelining keeps one
 * pipeline per primary (commands of many drops still travel together, per node), reads and
 * writes go to primaries only (a replica may lag: the sale reads what it just wrote), and a
 * MOVED/ASK or a failover is followed by the client itself.
 */
export function connectRedis(
  config: Pick<FlashdropConfig, 'REDIS_URL' | 'redisClusterNodes'> &
    Partial<Pick<FlashdropConfig, 'redisClusterNatMap'>>,
  options: RedisConnectOptions = {},
): RedisClient {
  const nodes = config.redisClusterNodes;
  // natMap means nothing to one Redis (ioredis ignores it there).
  if (!nodes) return createRedis(config.REDIS_URL, options);
  const { enableAutoPipelining, natMap, commandDeadlineMs, ...perNode } = {
    ...DEFAULTS,
    natMap: config.redisClusterNatMap,
    ...options,
  };
  const cluster = new Cluster(nodes, {
    enableAutoPipelining,
    natMap,
    autoPipeliningIgnoredCommands: [...CLUSTER_UNPIPELINED],
    scaleReads: 'master',
    clusterRetryStrategy: retryStrategy,
    // A primary that failed over: its replica takes the slots after the node timeout (3 s
    // locally); commands meanwhile are retried, then fail like a single Redis that is down.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2000,
    // Off: the map is re-read by keepSlotMapFresh below, not by ioredis' own timer.
    slotsRefreshInterval: 0,
    redisOptions: perNode,
  });
  keepSlotMapFresh(cluster, SLOTS_REFRESH_MS);
  logRedisErrors(cluster, options.connectionName ?? 'client');
  // On the cluster, not per node: the deadline also covers the cluster's own queue.
  return commandDeadlineMs === undefined
    ? cluster
    : keepCommandDeadline(cluster, commandDeadlineMs);
}

/**
 * How often a cluster connection re-reads the slot map. After a failover, an auto-pipelined
 * batch for the moved slots comes back with one MOVED per slot; ioredis retries a pipeline only
 * when every error is the same, and refreshes its slot map only on a MOVED it retries, so
 * without a periodic re-read the client kept sending those slots to the old node for good.
 * Re-reading the map every second heals it within a second.
 */
const SLOTS_REFRESH_MS = 1000;

/**
 * Re-reads the cluster's slot map every `everyMs` while the connection is ready, in place of
 * ioredis' `slotsRefreshInterval`. That one (ioredis 5.11) re-arms itself when `disconnect()` or
 * `quit()` lands while one of its refreshes is in flight, and from then on "refreshes" the
 * closed connection every interval for good: a ref'd timer, no socket, no I/O, and a process
 * that never exits (the cluster stage's jest run in session 7's ci-local passed its 202 tests and
 * hung). What must stay true here: the timer runs only from 'ready' to the next 'close', it is
 * unref'd (it never keeps a process alive), and it asks only a ready connection.
 */
function keepSlotMapFresh(cluster: Cluster, everyMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  // ioredis emits each status it enters: 'ready' again after a reconnect, 'close' on the way to
  // a reconnect or to the end.
  cluster.on('ready', () => {
    timer ??= setInterval(() => {
      if (cluster.status === 'ready') cluster.refreshSlotsCache();
    }, everyMs).unref();
  });
  cluster.on('close', () => {
    clearInterval(timer);
    timer = undefined;
  });
}

/** True for a Redis Cluster connection (scripts and commands must keep to one slot). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

export async function pingRedis(redis: RedisClient, timeoutMs = 1000): Promise<void> {
  const answer = await withTimeout(redis.ping(), timeoutMs, 'redis');
  if (answer !== 'PONG') throw new Error(`redis answered ${answer}`);
}

/**
 * The errors ioredis rejects a command with when Redis did not answer it: the command timed out
 * (`commandDeadlineMs`), Redis stayed unreachable through `maxRetriesPerRequest` reconnects, the
 * connection was closed, or no node of a cluster could be reached. Whether the command ran is
 * unknown (it may have reached Redis before the answer was lost): callers say "try again", and
 * every write script is safe to run twice (libs/inventory).
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    error.message === COMMAND_TIMED_OUT ||
    error.message === 'Connection is closed.' ||
    error.message.startsWith("Stream isn't writeable")
  );
}

/** Options of the process's shared connection (RedisModule.withCommandDeadline). */
const SHARED_CONNECTION_OPTIONS = Symbol('SHARED_CONNECTION_OPTIONS');

/** The process's shared Redis connection, closed on shutdown. */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  readonly client: RedisClient;

  constructor(
    @Inject(FlashdropConfig) config: FlashdropConfig,
    @Optional() @Inject(SHARED_CONNECTION_OPTIONS) options: RedisConnectOptions = {},
  ) {
    this.client = connectRedis(config, { connectionName: 'flashdrop', ...options });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

@Global()
@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {
  /**
   * The public origin's connection: every command is answered within REDIS_COMMAND_TIMEOUT_MS
   * or fails (isRedisUnavailable), so no request waits longer than that on Redis. Not for the
   * background processes, whose loops hold blocking reads and retry on their own.
   */
  static withCommandDeadline(): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: SHARED_CONNECTION_OPTIONS,
          inject: [FlashdropConfig],
          useFactory: (config: FlashdropConfig): RedisConnectOptions => ({
            commandDeadlineMs: config.REDIS_COMMAND_TIMEOUT_MS,
          }),
        },
        RedisConnection,
      ],
      exports: [RedisConnection],
    };
  }
}
