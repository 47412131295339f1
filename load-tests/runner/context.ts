import type Redis from 'ioredis';
import { Stack } from './stack';

/** What every scenario run gets: the stack, its Redis (for memory figures), a run id, a log. */
export interface RunContext {
  readonly stack: Stack;
  readonly redis: Redis;
  /** Unique per benchmark run: fans, SKUs and references of several runs never meet. */
  readonly run: string;
  readonly log: (line: string) => void;
}
