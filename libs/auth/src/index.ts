export * from './token-verifier';
export * from './auth.decorators';
export * from './auth.guard';
export * from './auth.module';
