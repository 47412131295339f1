// The audit (`npm run audit`): invariants 1-6, 8 and 9 recomputed from the stored truth, through the
// owners of that truth (libs/inventory for the sale, libs/ledger for the money).
export * from './breach';
export * from './run-audit';
export * from './sales-audit';
export * from './money-audit';
export * from './fair-audit';
export * from './durability-audit';
export * from './drop-figures';
