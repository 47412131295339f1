import { DynamicModule, Global, Module } from '@nestjs/common';
import { FlashdropConfig, loadConfig } from './flashdrop-config';

/**
 * Provides the validated `FlashdropConfig` to every provider. Validation runs once, when the
 * module is built, so a bad variable stops the service before it listens.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: FlashdropConfig = loadConfig(FlashdropConfig)): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: FlashdropConfig, useValue: config }],
      exports: [FlashdropConfig],
    };
  }
}
