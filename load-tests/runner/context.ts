import type { RedisClient } from '@flashdrop/persistence';
import { Stack } from './stack';

/** What every scenario run gets: the stack, its Redis (for memory figures), a run id, a log. */
export interface RunContext {
  readonly stack: Stack;
  readonly redis: RedisClient;
  /** Unique per benchmark run: fans, SKUs and references of several runs never meet. */
  readonly run: string;
  readonly log: (line: string) => void;
}
