export * from './error-codes';
export * from './error-messages';
export * from './domain-error';
export * from './roles';
export * from './wallet-patterns';
export * from './orders';
export * from './rfc3339';
