/**
 * `npm run audit`: recomputes every invariant (DESIGN.md 1-5) from the stored truth of the
 * stack whose environment it runs in (the same variables the services read: REDIS_URL,
 * DATABASE_URL), prints each breach, and exits 1 if there is any. The audit is libs/audit.
 */
import { INVARIANTS, runAudit } from '@flashdrop/audit';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts, walletPool } from '@flashdrop/ledger';
import { createRedis } from '@flashdrop/persistence';

async function main(): Promise<number> {
  const config = loadConfig(FlashdropConfig);
  const redis = createRedis(config.REDIS_URL, { enableAutoPipelining: false });
  const db = walletPool(config, { applicationName: 'flashdrop-audit', poolSize: 2 });
  await db.initialize();
  try {
    const report = await runAudit(new Inventory(redis), new LedgerFacts(db));
    for (const b of report.breaches) {
      console.log(
        `BREACH invariant ${b.invariant} (${INVARIANTS[b.invariant]}): ${b.subject}: ${b.message}`,
      );
    }
    console.log(
      `audit: ${report.drops} drops, ${report.orders} orders, ${report.accounts} accounts, ` +
        `${report.transfers} transfers: ${report.breaches.length} breaches`,
    );
    return report.breaches.length === 0 ? 0 : 1;
  } finally {
    await db.destroy();
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`audit failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
