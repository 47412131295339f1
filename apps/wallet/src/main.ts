import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { runService, StrictValidationPipe } from '@flashdrop/http';
import { RpcErrorFilter } from './rpc/rpc-error.filter';
import { MAX_MESSAGE_CHARS, SignedRequestDeserializer } from '@flashdrop/wallet-client';
import { WalletModule } from './wallet.module';

runService('wallet', async (config, nest) => {
  // BIND_HOST is loopback by default: only this machine can reach the wallet. Anywhere else
  // the config requires WALLET_SECRET, and every request must be signed with it.
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(WalletModule, {
    ...nest,
    transport: Transport.TCP,
    options: {
      host: config.BIND_HOST,
      port: config.WALLET_PORT,
      maxBufferSize: MAX_MESSAGE_CHARS,
      ...(config.WALLET_SECRET
        ? { deserializer: new SignedRequestDeserializer(config.WALLET_SECRET) }
        : {}),
    },
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  app.enableShutdownHooks();
  await app.listen();
});
