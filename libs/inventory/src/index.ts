// The sale's state in Redis, changed only by the Lua scripts of ./lua (see ../README.md), and
// its outbox streams. The keys (./keys.ts) are this library's own: nothing outside spells them.
export * from './inventory';
export { bucketOf, bucketShares, MAX_STOCK_BUCKETS, STRANDED_AFTER_MS } from './buckets';
export type { BucketSweep, BucketTokens, StockBuckets } from './buckets';
export { ORDERS_BEYOND_LIMIT } from './order-list-bound';
// The scripts as Redis runs them (prelude + _lib.lua + the file): their SHA names them on the wire.
export { INVENTORY_SOURCES } from './lua-scripts';
export type { ScriptName } from './lua-scripts';
export * from './refusal-tally';
export * from './bad-record';
export * from './draw-steps';
export { dropSlotTag } from './keys';
export * from './ids';
export * from './types';
export * from './drop-view';
export type { StoredSale } from './stored-sale';
export type { RebuiltGroup, RebuiltStanding, RebuildRecord } from './rebuilt-standing';
export * from './inventory.module';
export * from './outbox/stream-groups';
export * from './outbox/stream-relay';
export * from './outbox/outbox-trimmer';
export * from './outbox/outbox-reader';
export * from './outbox/handed-out';
export * from './group-settlement';
export * from './group-view';
export { debitRequestOf } from './debit-request';
