// The `wallet` schema (accounts, transfers, entries, payments, outbox): its entities, migrations
// and SQL, used by every process that reads or writes it (the wallet service, the worker's
// outbox relay, the audit). Nothing else spells it.
export {
  BATCH_MAX_IN_FLIGHT,
  BATCH_MAX_ITEMS,
  BATCH_MAX_QUEUED,
  LedgerRepository,
} from './ledger.repository';
// The group commit and the shard rule, for the bench's payment floor (load-tests/peers).
export { GroupCommit } from './group-commit';
export type { ItemResult } from './group-commit';
export { shardOf } from './shards';
// The batch functions' calls, one spelling for the wallet and the floor.
export * from './batch-calls';
export * from './ledger-facts';
export * from './wallet-outbox';
export * from './wallet-database';
