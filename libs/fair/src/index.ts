// Fair launch's public procedures, pure and shared by whoever must agree on them: the worker
// that runs a draw and chains the allocation log, the audit that re-checks both, and the
// verifier command anyone can run (docs/fair-launch.md spells each out step by step).
export * from './netstring';
export * from './entrants';
export * from './draw';
export * from './allocation-chain';
export * from './verify-draw';
export * from './http-draw-source';
