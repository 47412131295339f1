// The `sales` schema (drops, orders, draws, allocations): its entities, migrations and SQL, used by every process
// that reads or writes it (the API, the worker's order persistence). Nothing else spells it.
export { DropFigures } from './drop-figures';
export type { OrderTally, SecondOfSale, StoredDropFigures } from './drop-figures';
export { DropRecords } from './drop-records';
export { OrderRecords } from './order-records';
export type { OrderPageQuery, StoredOrder } from './order-records';
export { decodeOrderCursor, encodeOrderCursor } from './order-cursor';
export { DrawRecords, type PublishedDraw } from './draw-records';
export { AllocationRecords, type AllocationHead } from './allocation-records';
export * from './sales-database';
