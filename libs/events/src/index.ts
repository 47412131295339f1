export * from './topics';
export * from './kafka';
export * from './kafka.module';
export * from './envelope';
export * from './event-catalog';
export * from './event-schemas';
export * from './codec';
export * from './table-relay';
