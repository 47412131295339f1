export * from './bootstrap';
export * from './error-response';
export * from './error.filter';
export * from './lean-body';
export * from './lean-route';
export * from './logger.module';
export * from './metrics';
export * from './validation.pipe';
