import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FlashdropConfig } from '@flashdrop/config';
import { AuthGuard } from './auth.guard';
import { TokenVerifier } from './token-verifier';

/** Installs the global AuthGuard; needs ConfigModule for JWT_SECRET. */
@Global()
@Module({
  providers: [
    {
      provide: TokenVerifier,
      inject: [FlashdropConfig],
      useFactory: (config: FlashdropConfig) =>
        new TokenVerifier(config.JWT_SECRET, config.AUTH_TOKEN_CACHE_MAX),
    },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenVerifier],
})
export class AuthModule {}
