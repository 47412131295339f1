export * from './redis';
export * from './postgres';
export * from './postgres-deadline';
export * from './timing';
export * from './bigint-column';
export * from './server-logs';
export * from './replica-wait';
