export * from './flashdrop-config';
export * from './config.module';
export * from './repo-path';
