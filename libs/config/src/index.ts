export * from './flashdrop-config';
export * from './config.module';
