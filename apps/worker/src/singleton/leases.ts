/**
 * The `locks:` Redis key family: one redlock lease per worker singleton, held by SingletonLoop.
 * The only place that spells a lease's key.
 */
export function leaseKey(singleton: string): string {
  return `locks:${singleton}`;
}

/** Every singleton's lease: one holder of each across all worker instances. */
export const Leases = {
  holdSweeper: leaseKey('hold-sweeper'),
  lifecycle: leaseKey('lifecycle'),
  orderPersistence: leaseKey('order-persistence'),
  paymentRecovery: leaseKey('payment-recovery'),
  reservationCounter: leaseKey('reservation-counter'),
  streamRelay: leaseKey('relay:streams'),
  walletOutboxRelay: leaseKey('relay:wallet-outbox'),
} as const;
