import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { FlashdropConfig } from '@flashdrop/config';
import { DrawSteps, Inventory } from '@flashdrop/inventory';
import { RedisConnection, sleep } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';
import { LeadingWork, Singleton } from '../singleton/singleton';
import { DrawRunner } from './draw-runner';

const PASS_EVERY_MS = 250;

/**
 * The draw singleton: while this worker holds the `draw` lease (renewed in the background as it
 * works, so a 1.3 M-entrant draw that takes seconds keeps it), every PASS_EVERY_MS it moves
 * each draw drop's draw forward (DrawRunner: the commitment when reservations close, the steps
 * from saleStartsAt, then the result published). Drops whose draw is done are not looked at
 * again by this instance. Correct even if two leaders ever overlapped: every step is a script
 * that checks its own cursor, and the first commitment is final.
 */
@Singleton({ name: 'draw', leaseMs: 5000, everyMs: 500 })
@Injectable()
export class DrawScheduler implements LeadingWork, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DrawScheduler.name);
  private readonly sales: SalesDatabase;
  private readonly runner: DrawRunner;
  private readonly done = new Set<string>();

  constructor(
    private readonly inventory: Inventory,
    redis: RedisConnection,
    @Inject(FlashdropConfig) config: FlashdropConfig,
  ) {
    this.sales = SalesDatabase.pool(config, { poolSize: 2, applicationName: 'flashdrop-draw' });
    this.runner = new DrawRunner(inventory, new DrawSteps(redis.client), this.sales.draws, {
      stepFans: config.DRAW_STEP_FANS,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sales.open().catch((e: Error) => this.logger.warn(`postgres: ${e.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sales.close();
  }

  async lead(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.passOnce().catch((e: Error) => this.logger.warn(`draw pass: ${e.message}`));
      await sleep(PASS_EVERY_MS, signal);
    }
  }

  /** One pass over the draw drops not yet done; answers how many are done now. */
  async passOnce(): Promise<number> {
    await this.sales.open();
    const drops = (await this.inventory.dropSummaries()).filter(
      (d) => d.allocation === 'draw' && !this.done.has(d.id),
    );
    // One at a time: a big draw's steps should not compete with another's for Redis.
    for (const drop of drops) {
      const stage = await this.runner.advance(drop.id);
      if (stage !== 'waiting') this.done.add(drop.id);
    }
    return this.done.size;
  }
}
