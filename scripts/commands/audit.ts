import { INVARIANTS, runAudit } from '@flashdrop/audit';
import { defineCommand, Progress } from '@flashdrop/cli';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts, walletPool } from '@flashdrop/ledger';
import { connectRedis } from '@flashdrop/persistence';
import { SalesDatabase } from '@flashdrop/sales';

export const auditCommand = defineCommand({
  usage: 'npm run audit --',
  title: 'recompute every invariant from the stored truth; exit 1 on a breach',
  summary:
    'Recomputes invariants 1-6, 8 and 9 (no oversell, per-fan limit, eligibility, money conserved, ' +
    'exactly once, durability: every order PostgreSQL copied is still in Redis, fair allocation: the allocation logs and the draws, campaign money) from the stored truth of the stack whose environment it runs in (REDIS_URL, ' +
    'DATABASE_URL), prints each breach, and exits 1 if there is any.',
  flags: {
    drop: {
      type: 'string',
      value: 'ID',
      description: "only this drop's sale and payments (the ledger's own checks stay global)",
    },
  },
  details: ['Exit codes: 0 clean, 1 a breach, 2 a bad command line or the audit could not run.'],
  examples: ['npm run audit', 'npm run audit -- --drop d0123456789ab'],
});

/** `npm run audit`: libs/audit over the owners' faces, its report on stdout. */
export async function audit(flags: { drop?: string }): Promise<number> {
  const config = loadConfig(FlashdropConfig);
  const redis = connectRedis(config, { enableAutoPipelining: false });
  const db = walletPool(config, { applicationName: 'flashdrop-audit', poolSize: 2 });
  const sales = SalesDatabase.pool(config, { applicationName: 'flashdrop-audit', poolSize: 2 });
  let progress: Progress | undefined;
  try {
    await db.initialize();
    await sales.open();
    const report = await runAudit(
      new Inventory(redis),
      new LedgerFacts(db),
      flags.drop === undefined ? undefined : [flags.drop],
      {
        progress: (done, total) => (progress ??= new Progress('drops audited', total)).tick(done),
        records: sales,
      },
    );
    for (const b of report.breaches) {
      console.log(
        `BREACH invariant ${b.invariant} (${INVARIANTS[b.invariant]}): ${b.subject}: ${b.message}`,
      );
    }
    if (report.rewardsUnrecoveredMinor > 0) {
      // Not a breach: a refunded order's reward the referrer had already spent (PAYMENTS.md).
      console.log(
        `audit: referral rewards borne by the brands on refunds: ` +
          `${report.rewardsUnrecoveredMinor} minor units`,
      );
    }
    for (const n of report.notices) console.log(`NOTICE ${n.subject}: ${n.message}`);
    console.log(
      `audit: ${report.drops} drops, ${report.orders} orders, ${report.accounts} accounts, ` +
        `${report.transfers} transfers: ${report.breaches.length} breaches` +
        (report.notices.length > 0 ? `, ${report.notices.length} notices` : ''),
    );
    const figures = flags.drop === undefined ? undefined : report.figures.get(flags.drop);
    if (figures) {
      // What the drop's report after the sale must agree with (docs/fulfilment.md).
      console.log(
        `drop ${flags.drop}: orders ${JSON.stringify(figures.orders)}, units ` +
          `${JSON.stringify(figures.units)}, ${figures.fans} fans, ${figures.buyers} buyers, ` +
          `${figures.debits} debits of ${figures.debitedMinor} (minor units)`,
      );
    }
    return report.breaches.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(`audit could not run: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  } finally {
    await sales.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    redis.disconnect();
  }
}
