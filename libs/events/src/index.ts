export * from './topics';
export * from './kafka';
export * from './kafka.module';
export * from './envelope';
export * from './event-catalog';
