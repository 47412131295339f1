import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  Injectable,
  Module,
  ModuleMetadata,
  OnApplicationBootstrap,
  Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { FlashdropConfig } from '@flashdrop/config';
import { RedisConnection } from '@flashdrop/persistence';
import { scheduleOf, SingletonWork } from './singleton';
import { createRedlock, leaseKey, SingletonLoop } from './singleton-loop';

const SINGLETONS = Symbol('flashdrop:singletons');

/** Starts every registered singleton's loop at boot, and stops them all before shutdown. */
@Injectable()
class SingletonHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loops: SingletonLoop[] = [];

  constructor(
    @Inject(SINGLETONS) private readonly singletons: readonly Type<SingletonWork>[],
    @Inject(FlashdropConfig) private readonly config: FlashdropConfig,
    private readonly redis: RedisConnection,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    const redlock = createRedlock(this.redis.client);
    for (const type of this.singletons) {
      const schedule = scheduleOf(type);
      if (schedule.enabled && !schedule.enabled(this.config)) continue;
      const work = this.moduleRef.get(type);
      const intervalMs =
        typeof schedule.everyMs === 'number' ? schedule.everyMs : schedule.everyMs(this.config);
      const lease = { resource: leaseKey(schedule.name), leaseMs: schedule.leaseMs, intervalMs };
      const loop = new SingletonLoop(
        redlock,
        'tick' in work
          ? { ...lease, tick: (signal) => work.tick(signal) }
          : { ...lease, lead: (signal) => work.lead(signal) },
      );
      loop.start();
      this.loops.push(loop);
    }
  }

  /** Before the singletons' own shutdown hooks, so none is still working when they close. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
  }
}

export interface SingletonsOptions {
  /** Each a @Singleton provider (its schedule on the class), run under its own lease. */
  readonly singletons: readonly Type<SingletonWork>[];
  /** What they need beyond the process's global modules (config, Redis, Kafka, inventory). */
  readonly imports?: ModuleMetadata['imports'];
}

/** The worker's singletons, registered in one table and run by SingletonHost. */
@Module({})
export class SingletonsModule {
  static register(options: SingletonsOptions): DynamicModule {
    return {
      module: SingletonsModule,
      imports: options.imports ?? [],
      providers: [
        ...options.singletons,
        { provide: SINGLETONS, useValue: options.singletons },
        SingletonHost,
      ],
    };
  }
}
