import { applyDecorators } from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsIP,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/** An integer variable within [min, max] (environment values arrive as strings). */
function IntegerIn(min: number, max: number): PropertyDecorator {
  return applyDecorators(Transform(toInt), IsInt(), Min(min), Max(max));
}

/** The JWT secret README.md publishes for development: never a production one. */
export const DEVELOPMENT_JWT_SECRET = 'flashdrop-dev-secret-change-me';

/** The least a secret may hold with NODE_ENV=production (and the wallet's, anywhere). */
export const MIN_SECRET_BYTES = 32;

/** Variables whose values are secrets: never printed, not even in a refusal at boot. */
const SECRETS: ReadonlySet<string> = new Set(['JWT_SECRET', 'WALLET_SECRET']);

/** Whether a host name means this machine only (the wallet then needs no shared secret). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);

/**
 * JWT_SECRET: with NODE_ENV=production, neither the published development secret nor anything
 * shorter than MIN_SECRET_BYTES (an HS256 key should hold at least 256 bits).
 */
const IsProductionJwtSecret = () =>
  ValidateBy({
    name: 'isProductionJwtSecret',
    validator: {
      validate: (value, args) =>
        (args?.object as { NODE_ENV?: string }).NODE_ENV !== 'production' ||
        (value !== DEVELOPMENT_JWT_SECRET && bytes(value) >= MIN_SECRET_BYTES),
      defaultMessage: () =>
        `with NODE_ENV=production JWT_SECRET must be your own secret of at least ${MIN_SECRET_BYTES} bytes, not the development one`,
    },
  });

/**
 * WALLET_SECRET: the key every message to the wallet service is signed with (libs/wallet-client
 * message-signature.ts). Required, of at least MIN_SECRET_BYTES, whenever the wallet can be
 * reached from beyond this machine: it listens on BIND_HOST, and its clients reach it at
 * WALLET_HOST, so either one not a loopback address needs it. When given, always that long.
 */
const IsWalletSecret = () =>
  ValidateBy({
    name: 'isWalletSecret',
    validator: {
      validate: (value, args) => {
        const hosts = args?.object as { WALLET_HOST?: string; BIND_HOST?: string };
        const local =
          isLoopbackHost(hosts.WALLET_HOST ?? '') && isLoopbackHost(hosts.BIND_HOST ?? '');
        if (value === '' && local) return true;
        return bytes(value) >= MIN_SECRET_BYTES;
      },
      defaultMessage: () =>
        `WALLET_SECRET must hold at least ${MIN_SECRET_BYTES} bytes, and is required when WALLET_HOST or BIND_HOST is not a loopback address`,
    },
  });

/** REDIS_COMMAND_TIMEOUT_MS: longer than REDIS_WAIT_TIMEOUT_MS (see the field). */
const ExceedsWaitTimeout = () =>
  ValidateBy({
    name: 'exceedsWaitTimeout',
    validator: {
      validate: (value, args) =>
        typeof value === 'number' &&
        value > Number((args?.object as { REDIS_WAIT_TIMEOUT_MS?: unknown }).REDIS_WAIT_TIMEOUT_MS),
      defaultMessage: () => 'REDIS_COMMAND_TIMEOUT_MS must be longer than REDIS_WAIT_TIMEOUT_MS',
    },
  });

/**
 * Every environment variable Flashdrop reads, with its development default. One typed object,
 * validated once at boot (`loadConfig`); nothing else reads `process.env`.
 * `.env.example` lists the same variables.
 */
export class FlashdropConfig {
  @IsIn(['development', 'test', 'production'])
  readonly NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
  readonly LOG_LEVEL: string = 'info';

  @IntegerIn(1, 65535)
  readonly API_PORT: number = 3000;

  /**
   * Where the wallet's clients reach it (the wallet itself listens on BIND_HOST). A loopback
   * address by default; any other address requires WALLET_SECRET.
   */
  @IsString()
  @MinLength(1)
  readonly WALLET_HOST: string = '127.0.0.1';

  /** The shared secret that signs every wallet message ('' = none, loopback only). */
  @IsString()
  @IsWalletSecret()
  readonly WALLET_SECRET: string = '';

  @IntegerIn(1, 65535)
  readonly WALLET_PORT: number = 3101;

  /** How long the API waits for the wallet before answering 503 SERVICE_UNAVAILABLE. */
  @IntegerIn(100, 60000)
  readonly WALLET_TIMEOUT_MS: number = 5000;

  /**
   * How long an order may stay in `paying` before the recovery job settles it with the wallet
   * (completes it if debited, else fences the attempt off and aborts it). See PAYMENTS.md.
   */
  @IntegerIn(1000, 600000)
  readonly PAYMENT_WINDOW_MS: number = 15000;

  @IsString()
  @MinLength(1)
  readonly ANALYTICS_HOST: string = '127.0.0.1';

  @IntegerIn(1, 65535)
  readonly ANALYTICS_HTTP_PORT: number = 3102;

  @IntegerIn(1, 65535)
  readonly WORKER_HTTP_PORT: number = 3103;

  /**
   * The address every server of this process listens on (API, wallet, analytics, the worker's
   * health port). 127.0.0.1 on one machine; 0.0.0.0 in a container (the image sets it).
   */
  @IsIP(undefined, { message: 'BIND_HOST must be an IP address (127.0.0.1, 0.0.0.0, ...)' })
  readonly BIND_HOST: string = '127.0.0.1';

  /** The one Redis, when REDIS_CLUSTER_NODES is empty. */
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must look like redis://host:port' })
  readonly REDIS_URL: string = 'redis://127.0.0.1:6379';

  /**
   * Empty: one Redis at REDIS_URL. Set: a Redis Cluster found from these nodes (any of its
   * nodes will do; the client learns the rest), and REDIS_URL is not used. The one switch
   * between the two; libs/persistence `connectRedis` reads it.
   */
  @Matches(/^([^,\s:]+:\d{1,5}(,[^,\s:]+:\d{1,5})*)?$/, {
    message: 'REDIS_CLUSTER_NODES must be empty or host:port[,host:port...]',
  })
  readonly REDIS_CLUSTER_NODES: string = '';

  /**
   * Cluster only, and only where a node is not reachable at the address it announces (a NAT, a
   * container network seen from outside; in tests, a proxy in front of each node):
   * `announced=reachable` pairs, each `host:port=host:port`, comma-separated. Empty: every node
   * at its announced address. ioredis' `natMap`, read by libs/persistence `connectRedis`.
   */
  @Matches(/^([^,\s:=]+:\d{1,5}=[^,\s:=]+:\d{1,5}(,[^,\s:=]+:\d{1,5}=[^,\s:=]+:\d{1,5})*)?$/, {
    message: 'REDIS_CLUSTER_NAT_MAP must be empty or host:port=host:port[,...]',
  })
  readonly REDIS_CLUSTER_NAT_MAP: string = '';

  /**
   * 0: a grab, reservation or payment step is answered once its primary has it (AOF always),
   * and a failover of that primary may still lose it (replication is asynchronous). N > 0: it
   * is answered only after `WAIT` confirms N replicas have it too; when they do not within
   * REDIS_WAIT_TIMEOUT_MS the step is done but answered 503 SERVICE_UNAVAILABLE (a retry with
   * the same Idempotency-Key gets its answer). Needs primaries with N replicas (a Redis Cluster).
   */
  @IntegerIn(0, 5)
  readonly REDIS_WAIT_REPLICAS: number = 0;

  /** How long a step waits for REDIS_WAIT_REPLICAS replicas before its 503. */
  @IntegerIn(1, 10000)
  readonly REDIS_WAIT_TIMEOUT_MS: number = 500;

  /**
   * The API's deadline on each Redis command: a command not answered within it fails, and the
   * request answers 503 SERVICE_UNAVAILABLE with Retry-After instead of hanging while Redis is
   * unreachable (a stopped process, a lost network: TCP says nothing, ioredis waits for good).
   * Longer than REDIS_WAIT_TIMEOUT_MS: a WAIT holds the connection, and the commands queued
   * behind it must not time out for that alone.
   */
  @IntegerIn(100, 60000)
  @ExceedsWaitTimeout()
  readonly REDIS_COMMAND_TIMEOUT_MS: number = 5000;

  @Matches(/^postgres(ql)?:\/\/.+/, {
    message: 'DATABASE_URL must look like postgres://user:pass@host:port/db',
  })
  readonly DATABASE_URL: string = 'postgres://flashdrop:flashdrop@127.0.0.1:5433/flashdrop';

  /**
   * The deadline on each PostgreSQL statement of a request (the API's pools, the wallet's): the
   * server cancels a statement past it (statement_timeout), and the client drops a connection
   * that answers nothing 500 ms later (a stopped server, a lost network), so the request
   * answers 503 SERVICE_UNAVAILABLE with Retry-After instead of hanging. Background pools (the
   * worker's batches, migrations, the audit) keep the server's 15 s.
   */
  @IntegerIn(100, 60000)
  readonly POSTGRES_QUERY_TIMEOUT_MS: number = 5000;

  @Matches(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, {
    message: 'KAFKA_BROKERS must be host:port[,host:port...]',
  })
  readonly KAFKA_BROKERS: string = '127.0.0.1:9092';

  @IsString()
  @MinLength(1)
  readonly KAFKA_CLIENT_ID: string = 'flashdrop';

  /**
   * Partitions of each topic, set when the project creates the topics (the worker's `topics`
   * command). Messages are keyed by drop id, so one drop's events share a partition. An
   * existing topic keeps its count: adding partitions moves drops to other partitions while
   * their older events may be unread (docs/deploy.md).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  readonly KAFKA_PARTITIONS: number = 6;

  /** Replicas of each topic the project creates: 1 on one broker, 3 in production. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(7)
  readonly KAFKA_REPLICATION_FACTOR: number = 1;

  /**
   * Put before every topic name (libs/events `topicName`): the test stacks of several slots
   * share one broker and must each read only their own events. Empty in dev and production.
   */
  @Matches(/^[a-z0-9._-]*$/, { message: 'KAFKA_TOPIC_PREFIX may hold only a-z 0-9 . _ -' })
  readonly KAFKA_TOPIC_PREFIX: string = '';

  /**
   * Which outbox relays this worker may lead (each still under its redlock lease): `streams`
   * (the drops' Redis streams), `wallet-outbox` (the wallet's PostgreSQL table). A worker of a
   * test that has its own Redis but shares the database must leave the wallet's table alone.
   */
  @Matches(/^((streams|wallet-outbox)(,(streams|wallet-outbox))*)?$/, {
    message: 'RELAYS is a comma list of: streams, wallet-outbox',
  })
  readonly RELAYS: string = 'streams,wallet-outbox';

  @IsString()
  @MinLength(16, { message: 'JWT_SECRET must be at least 16 characters' })
  @IsProductionJwtSecret()
  readonly JWT_SECRET: string = DEVELOPMENT_JWT_SECRET;

  /** Grabs one fan may send per drop per second before 429 TOO_MANY_REQUESTS; 0 = no limit. */
  @IntegerIn(0, 1_000_000)
  readonly GRAB_RATE_LIMIT_PER_SECOND: number = 10;

  /**
   * Cancels one fan may send per second before 429 TOO_MANY_REQUESTS; 0 = no limit. Cancels are
   * bounded like grabs: each returns units and writes an event the whole pipeline carries.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  readonly CANCEL_RATE_LIMIT_PER_SECOND: number = 5;

  /** Shares one fan may post per minute before 429 TOO_MANY_REQUESTS; 0 = no limit. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  readonly SHARE_RATE_LIMIT_PER_MINUTE: number = 30;

  /**
   * Admission control on the public origin: requests one API process works on at once; past
   * it the answer is an immediate 503 with Retry-After (libs/http admissionControl). 0 = no
   * bound. Probes, metrics and live streams are not counted.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  readonly API_MAX_IN_FLIGHT: number = 512;

  /**
   * Admission control's second bound: while the API's event loop is behind by more than this
   * (ms, the mean over the last 100 ms), every new request is answered 503 at once, below
   * API_MAX_IN_FLIGHT too (libs/http admissionControl). 0 = not watched.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  readonly API_MAX_EVENT_LOOP_DELAY_MS: number = 100;

  /**
   * Verified tokens one process keeps (libs/auth VerifiedTokens: the first ones it sees, each
   * until its exp). Sized for a sale's reservation window: the phone's 240,000 fans with room
   * for several such sales an hour, at an estimated 0.3-0.4 KB each (up to ~400 MB when full),
   * so the heap must allow for it; 0 turns the cache off (every request pays the HMAC).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  readonly AUTH_TOKEN_CACHE_MAX: number = 1_000_000;

  /**
   * The API's listen backlog: connections the kernel completes and queues until the process
   * accepts them (the kernel caps it at net.core.somaxconn). Node's default, 511, overflowed
   * when 3,000 fans connected at once (the bench's overload): the kernel dropped the handshakes
   * past it and each of those fans waited for a SYN-ACK retransmission (1 s, 3 s, 7 s...) before
   * its request reached admission control, so even its 503 took seconds.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65_535)
  readonly API_LISTEN_BACKLOG: number = 4096;

  /** Live streams (`GET /v1/drops/:id/live`) one caller may hold open at once (then 429). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly LIVE_STREAMS_PER_CALLER: number = 8;

  /** Live streams one analytics process serves in all (then 503). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  readonly LIVE_STREAMS_MAX: number = 2000;

  /** How often the worker's hold-expiry sweeper looks for due holds (ms). */
  @IntegerIn(20, 10_000)
  readonly SWEEPER_INTERVAL_MS: number = 200;

  /** The notifier's health and metrics route (apps/notifier: webhook deliveries). */
  @IntegerIn(1, 65535)
  readonly NOTIFIER_HTTP_PORT: number = 3104;

  /**
   * The key that seals webhook secrets at rest (libs/webhooks SecretBox): 32 bytes, base64.
   * The default is the development key, refused when NODE_ENV=production.
   */
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'WEBHOOK_SECRET_KEY must be 32 bytes, base64' })
  readonly WEBHOOK_SECRET_KEY: string = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

  /**
   * Address ranges (CIDR, comma-separated) that webhook URLs may reach although they are not
   * public: private, loopback and link-local addresses are refused unless named here. Tests and
   * the demo name loopback (127.0.0.0/8,::1/128). Empty: public addresses only.
   */
  @Matches(/^[0-9a-fA-F.:/, ]*$/, {
    message: 'WEBHOOK_ALLOWED_NETWORKS is a comma list of CIDR ranges',
  })
  readonly WEBHOOK_ALLOWED_NETWORKS: string = '';

  /** How long one delivery attempt may take before it counts as failed (ms). */
  @IntegerIn(100, 60_000)
  readonly WEBHOOK_TIMEOUT_MS: number = 10_000;

  /** The first retry's delay (ms); each later one doubles, up to WEBHOOK_RETRY_MAX_MS, with jitter. */
  @IntegerIn(10, 3_600_000)
  readonly WEBHOOK_RETRY_BASE_MS: number = 10_000;

  /** The longest delay between two attempts (ms). */
  @IntegerIn(10, 86_400_000)
  readonly WEBHOOK_RETRY_MAX_MS: number = 3_600_000;

  /** How long a delivery is retried before it is given up (ms; default 25 h: at least a day). */
  @IntegerIn(1000, 30 * 86_400_000)
  readonly WEBHOOK_RETRY_FOR_MS: number = 90_000_000;

  /** Attempts in flight at once to one webhook (a slow receiver holds at most these). */
  @IntegerIn(1, 256)
  readonly WEBHOOK_CONCURRENCY: number = 4;

  /** Attempts in flight at once in one notifier, over every webhook. */
  @IntegerIn(1, 10_000)
  readonly WEBHOOK_MAX_IN_FLIGHT: number = 128;

  /** Pending deliveries one webhook may have; beyond it new events are recorded as failed. */
  @IntegerIn(1, 10_000_000)
  readonly WEBHOOK_MAX_BACKLOG: number = 100_000;

  /** Fans per step of a draw (one Lua call each): smaller steps block Redis for less time. */
  @IntegerIn(1, 20_000)
  readonly DRAW_STEP_FANS: number = 2000;

  /** Live standing streams (GET /v1/drops/:id/me/live) one API process serves at once (503 past it). */
  @IntegerIn(1, 1_000_000)
  readonly STANDING_STREAMS_MAX: number = 10_000;

  /** Live standing streams one fan may hold open at once (429 past it). */
  @IntegerIn(1, 100)
  readonly STANDING_STREAMS_PER_FAN: number = 3;

  relayEnabled(relay: 'streams' | 'wallet-outbox'): boolean {
    return this.RELAYS.split(',').includes(relay);
  }

  get kafkaBrokers(): string[] {
    return this.KAFKA_BROKERS.split(',');
  }

  /** Where to reach each cluster node by the address it announces, or undefined (REDIS_CLUSTER_NAT_MAP). */
  get redisClusterNatMap(): Record<string, { host: string; port: number }> | undefined {
    if (this.REDIS_CLUSTER_NAT_MAP === '') return undefined;
    return Object.fromEntries(
      this.REDIS_CLUSTER_NAT_MAP.split(',').map((pair) => {
        const [announced, reachable] = pair.split('=');
        const [host, port] = reachable.split(':');
        return [announced, { host, port: Number(port) }];
      }),
    );
  }

  /** The Redis Cluster's seed nodes, or undefined for one Redis at REDIS_URL. */
  get redisClusterNodes(): { host: string; port: number }[] | undefined {
    if (this.REDIS_CLUSTER_NODES === '') return undefined;
    return this.REDIS_CLUSTER_NODES.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host, port: Number(port) };
    });
  }
}

/** Thrown at boot when a variable is missing or malformed; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the environment once. Throws ConfigError naming each bad variable, so a
 * service fails fast at start instead of deep inside a request.
 */
export function loadConfig<T extends object>(
  cls: new () => T,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const defaults = new cls() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    raw[key] = value === undefined || value === '' ? defaults[key] : value;
  }
  const config = plainToInstance(cls, raw);
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        const value = SECRETS.has(e.property)
          ? `<${bytes(raw[e.property])} bytes>`
          : JSON.stringify(raw[e.property]);
        return `${e.property}=${value}: ${Object.values(e.constraints ?? {}).join(', ')}`;
      }),
    );
  }
  return Object.freeze(config);
}
