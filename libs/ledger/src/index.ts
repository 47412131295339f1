// The `wallet` schema (accounts, transfers, entries, payments, outbox): its entities, migrations
// and SQL, used by every process that reads or writes it (the wallet service, the worker's
// outbox relay, the audit). Nothing else spells it.
export { LedgerRepository } from './ledger.repository';
export * from './ledger-facts';
export * from './wallet-outbox';
export * from './wallet-database';
