import type { ArrivalSpec } from './scenario';

/**
 * The peers the benchmark measures in the same run as the stack (load-tests/peers):
 * - floor: a minimal Fastify + ioredis (auto-pipelining) server running the same Lua grab
 *   script from libs/inventory against Redis with `appendfsync always`;
 * - naive: a server doing `UPDATE ... SET qty = qty - 1 WHERE qty > 0` on one PostgreSQL row
 *   per grab, which at ~2.7k/s cannot take the full rush in a bounded run, so it runs the same
 *   rush scaled down (same units-to-fans ratio) and bounded in time;
 * - hello: a plain Fastify hello-world: the load generator's own ceiling on this machine.
 */
export const peers = {
  floor: { arrival: { ratePerSecond: 60_000, maxInFlight: 100 } satisfies ArrivalSpec },
  naive: {
    scale: 0.1,
    maxSeconds: 15,
    arrival: { ratePerSecond: 60_000, maxInFlight: 100 } satisfies ArrivalSpec,
  },
  hello: {
    seconds: 5,
    arrival: { ratePerSecond: 200_000, maxInFlight: 100 } satisfies ArrivalSpec,
  },
};
