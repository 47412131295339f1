export * from './test-env';
export * from './tokens';
export * from './api-client';
export * from './processes';
export * from './inventory-fixtures';
export * from './postgres';
export * from './sales-fixtures';
export * from './chromium';
