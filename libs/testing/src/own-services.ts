import { DataSource } from 'typeorm';
import { createKafka, Topic, topicName } from '@flashdrop/events';
import {
  connectRedis,
  createRedis,
  RedisClient,
  RedisConnectOptions,
} from '@flashdrop/persistence';
import { WalletClient } from '@flashdrop/wallet-client';
import { eventually } from './api-client';
import { freshDatabase, testDatabase } from './postgres';
import {
  createTopics,
  DedicatedRedis,
  DedicatedRedisCluster,
  migrateSchema,
  portOpen,
  ServiceProcess,
} from './processes';
import { testConfig, testProfileEnv } from './test-env';
import { TopicTail } from './topic-tail';
import { uniqueId } from './tokens';

/** The services a crash test runs as processes of its own (the ones it kills). */
export type OwnServiceName = 'api' | 'wallet' | 'worker';

type Schema = 'sales' | 'wallet' | 'webhooks';

export interface OwnServicesOptions {
  /** Which services to run, started in this order (a wallet before the API that calls it). */
  readonly run: readonly OwnServiceName[];
  /**
   * Their ports, each a `slotPort()` of the test's own. A port may be named for a service that
   * does not run (a worker's WALLET_PORT where nothing pays), so it points at nothing shared.
   */
  readonly ports: Partial<Record<OwnServiceName, number>>;
  /** A Redis server of their own on this port, started empty; else the slot's Redis. */
  readonly redisPort?: number;
  /**
   * Instead, a Redis Cluster of their own (three primaries with a replica each) from this first
   * port, started empty: for a test that kills one of its nodes.
   */
  readonly redisCluster?: number;
  /**
   * A database of their own: `fresh` makes `<slot db>_<fresh>` anew; `url` names one the test
   * runs itself (a DedicatedPostgres), whose `schemas` are dropped first. Else the slot's.
   */
  readonly database?:
    | { readonly fresh: string; readonly schemas: readonly Schema[] }
    | { readonly url: string; readonly schemas: readonly Schema[] };
  /** Topics of their own, `<slot prefix><topics>.`, created on the shared broker. */
  readonly topics?: string;
  /** Tails opened on those topics before any service starts, so they miss nothing. */
  readonly tails?: readonly Topic[];
  /** More environment for every service (PAYMENT_WINDOW_MS, RELAYS, WALLET_TIMEOUT_MS, ...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Options of the test's own connection to their Redis. */
  readonly redisOptions?: RedisConnectOptions;
}

/**
 * "Own services on own ports": the set-up every kill -9 test shares. A wallet, an API and a
 * worker as child processes (dist/apps/<name>/main.js) on ports of the test's own, optionally
 * on a Redis server (or a Redis Cluster), a database and Kafka topics of their own, plus the
 * test's connections to the same Redis and database. `kill9` and `restart` are the crash; `stop` ends everything it
 * started, whatever did start, so a failing test leaves no process holding a port.
 */
export class OwnServices {
  readonly redisServer?: DedicatedRedis;
  readonly redisCluster?: DedicatedRedisCluster;
  /** The topic prefix the services write under (`undefined`: the slot's own). */
  readonly topicPrefix?: string;
  /** The environment every service gets on top of the test profile's. */
  readonly env: Record<string, string>;
  databaseUrl: string;
  redis!: RedisClient;
  db!: DataSource;
  private readonly services = new Map<OwnServiceName, ServiceProcess>();
  private readonly tails = new Map<Topic, TopicTail>();
  private readonly clients: WalletClient[] = [];

  constructor(private readonly options: OwnServicesOptions) {
    const { ports } = options;
    if (options.redisPort !== undefined && options.redisCluster !== undefined)
      throw new Error('own services: a Redis server or a Redis Cluster of their own, not both');
    if (options.redisPort !== undefined) this.redisServer = new DedicatedRedis(options.redisPort);
    if (options.redisCluster !== undefined)
      this.redisCluster = new DedicatedRedisCluster(options.redisCluster);
    if (options.topics)
      this.topicPrefix = `${testProfileEnv().KAFKA_TOPIC_PREFIX}${options.topics}.`;
    this.databaseUrl =
      options.database && 'url' in options.database
        ? options.database.url
        : testConfig().DATABASE_URL;
    this.env = {
      ...(ports.api !== undefined ? { API_PORT: String(ports.api) } : {}),
      ...(ports.wallet !== undefined ? { WALLET_PORT: String(ports.wallet) } : {}),
      ...(ports.worker !== undefined ? { WORKER_HTTP_PORT: String(ports.worker) } : {}),
      ...(this.redisServer ? { REDIS_URL: `${this.redisServer.url}/0` } : {}),
      ...(this.redisCluster ? { REDIS_CLUSTER_NODES: this.redisCluster.nodes } : {}),
      ...(this.topicPrefix
        ? {
            KAFKA_TOPIC_PREFIX: this.topicPrefix,
            KAFKA_CLIENT_ID: uniqueId(`flashdrop-${options.topics}`),
          }
        : {}),
      ...options.env,
    };
    for (const name of options.run) {
      if (ports[name] === undefined) throw new Error(`own services: no port for the ${name}`);
    }
  }

  /** The API's base URL (it must be among `ports`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port('api')}`;
  }

  port(name: OwnServiceName): number {
    const port = this.options.ports[name];
    if (port === undefined) throw new Error(`own services: no port for the ${name}`);
    return port;
  }

  /** The process of a service that runs (for its pid or log). */
  service(name: OwnServiceName): ServiceProcess {
    const service = this.services.get(name);
    if (!service) throw new Error(`own services: the ${name} does not run here`);
    return service;
  }

  /** The tail opened on a topic of `tails`. */
  tail(topic: Topic): TopicTail {
    const tail = this.tails.get(topic);
    if (!tail) throw new Error(`own services: no tail on ${topic}`);
    return tail;
  }

  /** Starts the servers, the database, the topics, the tails and the services, in that order. */
  async start(): Promise<void> {
    if (this.redisServer) {
      this.redisServer.start();
      await this.redisServer.flush();
    }
    if (this.redisCluster) {
      this.redisCluster.start();
      await this.redisCluster.flush();
    }
    const database = this.options.database;
    if (database) {
      if ('fresh' in database) this.databaseUrl = await freshDatabase(database.fresh);
      else {
        const admin = await testDatabase(database.url);
        for (const schema of database.schemas)
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.destroy();
      }
      for (const schema of database.schemas) migrateSchema(schema, this.databaseUrl);
      this.env.DATABASE_URL = this.databaseUrl;
    }
    if (this.topicPrefix) createTopics(this.topicPrefix);
    for (const topic of this.options.tails ?? []) {
      if (!this.topicPrefix) throw new Error('own services: tails need topics of their own');
      const tail = new TopicTail(
        createKafka(uniqueId(`flashdrop-${this.options.topics}-tail`), testConfig().kafkaBrokers),
        topicName(topic, this.topicPrefix),
      );
      this.tails.set(topic, tail);
      await tail.start('now');
    }
    this.redis = this.redisServer
      ? createRedis(`${this.redisServer.url}/0`, this.options.redisOptions)
      : this.redisCluster
        ? this.redisCluster.connect(this.options.redisOptions)
        : connectRedis(testConfig(), this.options.redisOptions);
    this.db = await testDatabase(this.databaseUrl);
    for (const name of this.options.run) {
      this.services.set(name, new ServiceProcess(name, this.env));
      await this.restart(name);
    }
  }

  /** `kill -9` of one service: what a crash looks like. */
  kill9(name: OwnServiceName): void {
    this.service(name).kill9();
  }

  /**
   * Starts a service (again, after `kill9`) and waits until it serves: the wallet accepts TCP
   * connections, the API and the worker answer their liveness route.
   */
  async restart(name: OwnServiceName): Promise<void> {
    const service = this.service(name);
    service.start();
    if (name === 'wallet') {
      if (!(await eventually(() => portOpen(this.port('wallet')), 30_000)))
        throw new Error(`the wallet did not listen on ${this.port('wallet')} (${service.logFile})`);
    } else {
      await service.waitForHttp(`http://127.0.0.1:${this.port(name)}/health/live`);
    }
  }

  /** A wallet client of the test's own on the wallet's port, closed by `stop`. */
  walletClient(timeoutMs = 3000): WalletClient {
    const client = new WalletClient({ host: '127.0.0.1', port: this.port('wallet'), timeoutMs });
    this.clients.push(client);
    return client;
  }

  /** A new pool on the database (the old one lost its server: a DedicatedPostgres restarted). */
  async reconnectDatabase(): Promise<DataSource> {
    await this.db?.destroy().catch(() => undefined);
    this.db = await testDatabase(this.databaseUrl);
    return this.db;
  }

  /** Stops whatever started, the last started first. */
  async stop(): Promise<void> {
    for (const tail of this.tails.values()) await tail.stop().catch(() => undefined);
    for (const client of this.clients) await client.onApplicationShutdown();
    for (const name of [...this.options.run].reverse()) await this.services.get(name)?.stop();
    await this.db?.destroy().catch(() => undefined);
    this.redis?.disconnect();
    this.redisServer?.stop();
    this.redisCluster?.stop();
  }
}
