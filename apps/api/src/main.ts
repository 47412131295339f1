import { loadConfig, FlashdropConfig } from '@flashdrop/config';
import { createHttpApp } from '@flashdrop/http';
import { AppModule } from './app.module';
import { PaymentsRoute } from './payments/payments.route';
import { PurchaseRoute } from './purchase/purchase.route';
import { ReservationRoute } from './reservations/reservation.route';
import { migrateSales } from '@flashdrop/sales';

async function main(): Promise<void> {
  const config = loadConfig(FlashdropConfig);
  if (process.argv.includes('migrate')) {
    const applied = await migrateSales(config);
    process.stdout.write(
      `sales migrations applied: ${applied.length ? applied.join(', ') : 'none pending'}\n`,
    );
    return;
  }
  const app = await createHttpApp(AppModule, {
    docsTitle: 'Flashdrop public API',
    // The rush's two routes and the payment, served by Fastify directly (libs/http LeanRoute).
    leanRoutes: [PurchaseRoute, ReservationRoute, PaymentsRoute],
  });
  await app.listen(config.API_PORT, '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
