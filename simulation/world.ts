import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import {
  DebitReply,
  DebitRequest,
  RefundReply,
  RefundRequest,
  ReleaseReply,
  ReleaseRequest,
  SettleReply,
  SettleRequest,
} from '@flashdrop/contracts';
import { Inventory, DrawSteps } from '@flashdrop/inventory';
import { LedgerFacts, LedgerRepository, migrateWallet, walletPool } from '@flashdrop/ledger';
import { createRedis, RedisConnection } from '@flashdrop/persistence';
import { migrateSales, SalesDatabase } from '@flashdrop/sales';
import {
  DedicatedRedis,
  freshDatabase,
  slotPort,
  testDatabase,
  testProfileEnv,
} from '@flashdrop/testing';
import type { WalletClient } from '@flashdrop/wallet-client';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { PaymentsService } from '../apps/api/src/payments/payments.service';
import { RefundsService } from '../apps/api/src/refunds/refunds.service';
import { DrawRunner } from '../apps/worker/src/draw/draw-runner';
import { GroupSweeper } from '../apps/worker/src/group-sweeper/group-sweeper';
import { LifecycleScheduler } from '../apps/worker/src/lifecycle/lifecycle-scheduler';
import { OrderPersister } from '../apps/worker/src/order-persistence/order-persister';
import { PaymentRecoveryService } from '../apps/worker/src/payment-recovery/payment-recovery.service';
import { RefundRecovery } from '../apps/worker/src/refund-recovery/refund-recovery';
import { HoldSweeper } from '../apps/worker/src/sweeper/hold-sweeper';
import { Faults } from './faults';
import { Pipeline } from './pipeline';

/**
 * How long a payment attempt fences its order (PAYMENT_WINDOW_MS): the shortest the config
 * allows, so an attempt left half-way by a "killed" payer is past its payingUntil within a
 * second and the recovery may settle it, without bending the attempt's identity (payingUntil
 * is the attempt).
 */
export const SIM_PAYMENT_WINDOW_MS = 1000;

/** Where a run keeps its servers: a Redis of its own and a database of its own. */
export interface WorldOptions {
  /** Base port of the dedicated Redis (moved by TEST_SLOT). */
  readonly redisPortBase: number;
  /** Suffix of the database created on the test stack's PostgreSQL server. */
  readonly databaseName: string;
  /** Kafka topic prefix of the end-of-seed pipeline (invariant 7); none: not checked. */
  readonly topicPrefix?: string;
}

/**
 * The real parts one simulated drop runs against, in this process: the sale's Lua scripts on a
 * Redis of the simulator's own (no stack worker sweeps it behind the simulator's back), the
 * ledger's SQL functions on a database of its own, and the very classes the API and the worker
 * run (PaymentsService, RefundsService, HoldSweeper, PaymentRecoveryService, RefundRecovery,
 * GroupSweeper, LifecycleScheduler, DrawRunner, OrderPersister) over them. The wallet's TCP hop is replaced by a call of the same
 * LedgerRepository the wallet service calls, through `Faults`, which can lose a reply or
 * "kill" the caller at the hop.
 */
export class World {
  readonly faults = new Faults();
  readonly inventory: Inventory;
  readonly ledger: LedgerRepository;
  readonly facts: LedgerFacts;
  readonly payments: PaymentsService;
  readonly refunds: RefundsService;
  readonly refundRecovery: RefundRecovery;
  /** Group buy's clock and recovery: fails groups at their deadline, finishes completions. */
  readonly groupSweeper: GroupSweeper;
  readonly sweeper: HoldSweeper;
  readonly recovery: PaymentRecoveryService;
  readonly lifecycle: LifecycleScheduler;
  readonly draw: DrawRunner;
  persister: OrderPersister;
  pipeline?: Pipeline;

  private constructor(
    readonly config: FlashdropConfig,
    readonly redis: Redis,
    private readonly redisConnection: RedisConnection,
    private readonly walletDb: DataSource,
    readonly sales: SalesDatabase,
    private readonly server: DedicatedRedis,
  ) {
    this.inventory = new Inventory(redis);
    this.ledger = new LedgerRepository(walletDb);
    this.facts = new LedgerFacts(walletDb);
    const wallet = this.walletClient();
    this.payments = new PaymentsService(this.inventory, wallet, config);
    this.refunds = new RefundsService(this.inventory, wallet);
    this.refundRecovery = new RefundRecovery(this.inventory, wallet);
    this.groupSweeper = new GroupSweeper(this.inventory, wallet);
    this.sweeper = new HoldSweeper(this.inventory);
    this.recovery = new PaymentRecoveryService(this.inventory, wallet);
    this.lifecycle = new LifecycleScheduler(this.inventory);
    this.draw = new DrawRunner(this.inventory, new DrawSteps(redis), sales.draws, {
      stepFans: 3,
    });
    this.persister = new OrderPersister(this.inventory, redisConnection, config);
  }

  static async open(options: WorldOptions): Promise<World> {
    // The worker's classes log every draw step and stale payment: a seed's steps are its story.
    Logger.overrideLogger(['error']);
    const server = new DedicatedRedis(slotPort(options.redisPortBase));
    server.start();
    const databaseUrl = await freshDatabase(options.databaseName);
    const config = loadConfig(FlashdropConfig, {
      ...testProfileEnv(),
      REDIS_URL: server.url,
      // Its own Redis also under npm run test:cluster: the profile's cluster would outrank
      // REDIS_URL (connectRedis), and order persistence would read the slot's cluster.
      REDIS_CLUSTER_NODES: '',
      DATABASE_URL: databaseUrl,
      PAYMENT_WINDOW_MS: String(SIM_PAYMENT_WINDOW_MS),
    });
    await migrateWallet(config);
    await migrateSales(config);
    const redis = createRedis(server.url, { connectionName: 'flashdrop-simulation' });
    const walletDb = walletPool(config, { applicationName: 'flashdrop-simulation', poolSize: 6 });
    await walletDb.initialize();
    const sales = SalesDatabase.pool(config, {
      applicationName: 'flashdrop-simulation',
      poolSize: 4,
    });
    await sales.open();
    const world = new World(config, redis, new RedisConnection(config), walletDb, sales, server);
    if (options.topicPrefix !== undefined) {
      world.pipeline = await Pipeline.open(server.url, config, options.topicPrefix);
    }
    return world;
  }

  /**
   * Back to nothing before a seed (and before each of fast-check's shrinking runs): an empty
   * Redis and empty tables, so no state leaks from one seed into the next and a replay starts
   * exactly where the first run did.
   */
  async reset(): Promise<void> {
    // Grab refusals are written in aggregate a moment later: write them now, into this seed.
    await this.inventory.refusals.flush();
    await this.redis.flushdb();
    await this.pipeline?.beginSeed();
    await truncateSchemas(this.config.DATABASE_URL, ['wallet', 'sales']);
    this.faults.clear();
    this.faults.takeDebits();
    this.faults.takeRefunds();
    this.faults.takeReleases();
    // A new holder of order persistence (as after a lease change): no cached stream cursors or
    // log heads from the seed before. The old one's pool is closed first.
    await this.persister.onApplicationShutdown();
    this.persister = new OrderPersister(this.inventory, this.redisConnection, this.config);
  }

  /** Redis TIME: the sale clock. */
  now(): Promise<number> {
    return this.inventory.now();
  }

  async close(): Promise<void> {
    await this.inventory.refusals.flush();
    await this.pipeline?.close();
    await this.persister.onApplicationShutdown();
    await this.sales.close();
    await this.walletDb.destroy();
    this.redis.disconnect();
    await this.redisConnection.onApplicationShutdown();
    this.server.stop();
  }

  /** The wallet as the API's PaymentsService sees it, the hop through the fault injector. */
  private walletClient(): WalletClient {
    const ledger = this.ledger;
    const faults = this.faults;
    const direct = {
      debit: (r: DebitRequest): Promise<DebitReply> => faults.atDebit(r, (q) => ledger.debit(q)),
      settle: (r: SettleRequest): Promise<SettleReply> => ledger.settle(r),
      refund: (r: RefundRequest): Promise<RefundReply> =>
        faults.atRefund(r, (q) => ledger.refund(q)),
      release: (r: ReleaseRequest): Promise<ReleaseReply> =>
        faults.atRelease(r, (q) => ledger.release(q)),
    };
    return direct as unknown as WalletClient;
  }
}

let truncator: { url: string; db: DataSource } | undefined;

/** Empties every table of the schemas but their migration records (one statement). */
async function truncateSchemas(url: string, schemas: readonly string[]): Promise<void> {
  if (truncator?.url !== url) {
    await truncator?.db.destroy();
    truncator = { url, db: await testDatabase(url) };
  }
  const rows: { name: string }[] = await truncator.db.query(
    `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables
     WHERE schemaname = ANY($1) AND tablename NOT LIKE '%migrations%'`,
    [schemas],
  );
  if (rows.length > 0) {
    await truncator.db.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY`);
  }
}

/** Closes the connection `reset` keeps for truncating. */
export async function closeTruncator(): Promise<void> {
  await truncator?.db.destroy();
  truncator = undefined;
}
