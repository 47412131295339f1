export * from './error-codes';
export * from './domain-error';
export * from './roles';
export * from './with-timeout';
export * from './wallet-patterns';
export * from './orders';
export * from './wallet-client';
