// The `sales` schema (drops, orders): its entities, migrations and SQL, used by every process
// that reads or writes it (the API, the worker's order persistence). Nothing else spells it.
export { DropRecords } from './drop-records';
export { OrderRecords } from './order-records';
export type { OrderPageQuery, StoredOrder } from './order-records';
export { decodeOrderCursor, encodeOrderCursor } from './order-cursor';
export * from './sales-database';
