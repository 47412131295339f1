import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { runService, StrictValidationPipe } from '@flashdrop/http';
import { RpcErrorFilter } from './rpc/rpc-error.filter';
import { WalletModule } from './wallet.module';

runService('wallet', async (config, nest) => {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(WalletModule, {
    ...nest,
    transport: Transport.TCP,
    options: { host: config.BIND_HOST, port: config.WALLET_PORT },
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  app.enableShutdownHooks();
  await app.listen();
});
