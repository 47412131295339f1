import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { StrictValidationPipe } from '@flashdrop/http';
import { RpcErrorFilter } from './rpc/rpc-error.filter';
import { migrateWallet } from '@flashdrop/ledger';
import { WalletModule } from './wallet.module';

async function main(): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  if (process.argv.includes('migrate')) {
    const applied = await migrateWallet(config);
    process.stdout.write(
      `wallet migrations applied: ${applied.length ? applied.join(', ') : 'none pending'}\n`,
    );
    return;
  }
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(WalletModule, {
    transport: Transport.TCP,
    options: { host: config.WALLET_HOST, port: config.WALLET_PORT },
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new RpcErrorFilter());
  app.enableShutdownHooks();
  await app.listen();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
