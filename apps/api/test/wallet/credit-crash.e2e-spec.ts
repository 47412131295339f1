import { DataSource } from 'typeorm';
import { runAudit } from '@flashdrop/audit';
import { Inventory } from '@flashdrop/inventory';
import { LedgerFacts } from '@flashdrop/ledger';
import { RedisClient } from '@flashdrop/persistence';
import {
  api,
  balancesOf,
  fanIds,
  killMidLoad,
  OwnServices,
  phasesLine,
  RequestLoad,
  roundNumbers,
  slotPort,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';

/** Callers in flight: enough that the wallet's batches are full when it dies. */
const CONCURRENCY = 40;
/** Fans the credits share, so a batch holds several of one fan and the balances move together. */
const FANS = 30;
const ACKS_BEFORE = 150;
const ACKS_AFTER = 50;

interface Credit {
  readonly reference: string;
  readonly fanId: string;
  readonly amountMinor: number;
}

/**
 * Crash safety of a top-up: a wallet and an API of the test's own on a database of its own
 * (what it credits stays out of the stack's ledger), `kill -9` of the wallet or of the API in
 * the middle of a stream of credits. The kill falls in the middle (credits acknowledged before
 * it, in flight at it, acknowledged after the restart); then every 201 is in the ledger exactly
 * once with its fan and amount, nothing unacknowledged is there twice, each balance is the sum
 * of its fan's credits, and every credit sent again with its reference (what a client that
 * never got its answer does) moves money only if the first never landed.
 */
describe('acknowledged credits survive kill -9 (dedicated wallet, API and database)', () => {
  // Ports 37x1-37x8 and 67x1-67x3 (x = slot) are the crash tests' own: no other base is within
  // 90 of them with the same last digit, so base + 10 * slot meets no other server in any slot.
  const own = new OwnServices({
    run: ['wallet', 'api'],
    ports: { wallet: slotPort(3701), api: slotPort(3702) },
    database: { fresh: 'credit_crash', schemas: ['wallet'] },
    env: { WALLET_TIMEOUT_MS: '2000' },
  });
  const baseUrl = own.apiUrl;
  const operator = tokenFor('operator', 'credit-crash');
  let db: DataSource;
  let redis: RedisClient;

  beforeAll(async () => {
    await own.start();
    ({ db, redis } = own);
  }, 90_000);

  afterAll(() => own.stop(), 30_000);

  function creditVia(c: Credit) {
    return api<{ fanId: string; balanceMinor: number }>('POST', `/v1/wallets/${c.fanId}/credits`, {
      token: operator,
      body: { amountMinor: c.amountMinor, reference: c.reference },
      baseUrl,
    });
  }

  /** A credit per request, new reference each time; acknowledged: a 201. Every one sent is kept. */
  function credits(fans: readonly string[], sent: Credit[]) {
    const run = uniqueId('topup');
    return new RequestLoad<Credit>(
      async (n) => {
        const c = {
          reference: `${run}-${n}`,
          fanId: fans[n % fans.length],
          amountMinor: 1 + (n % 97),
        };
        sent.push(c);
        const res = await creditVia(c);
        return res.status === 201 ? c : undefined;
      },
      CONCURRENCY,
      100,
    );
  }

  /** The ledger's credit transfers of these references: reference -> [fan, amount] per transfer. */
  async function stored(references: readonly string[]): Promise<Map<string, Credit[]>> {
    const rows: { reference: string; owner_id: string; amount_minor: string }[] = await db.query(
      `SELECT t.reference, a.owner_id, e.amount_minor
         FROM wallet.transfers t
         JOIN wallet.entries e ON e.transfer_id = t.id
         JOIN wallet.accounts a ON a.id = e.account_id AND a.kind = 'fan'
        WHERE t.reference = ANY($1)`,
      [references],
    );
    const byReference = new Map<string, Credit[]>();
    for (const r of rows) {
      const list = byReference.get(r.reference) ?? [];
      list.push({ reference: r.reference, fanId: r.owner_id, amountMinor: Number(r.amount_minor) });
      byReference.set(r.reference, list);
    }
    return byReference;
  }

  /** Each fan's balance as the sum of the credits given, from `credits`. */
  function sums(fans: readonly string[], given: readonly Credit[]): Map<string, number> {
    const total = new Map(fans.map((f) => [f, 0]));
    for (const c of given) total.set(c.fanId, (total.get(c.fanId) ?? 0) + c.amountMinor);
    return total;
  }

  /** Sends every credit again with its reference, 50 at a time; answers the statuses by reference. */
  async function retryAll(all: readonly Credit[]): Promise<Map<string, number>> {
    const statuses = new Map<string, number>();
    for (let i = 0; i < all.length; i += 50) {
      const chunk = all.slice(i, i + 50);
      const answers = await Promise.all(chunk.map(creditVia));
      chunk.forEach((c, j) => statuses.set(c.reference, answers[j].status));
    }
    return statuses;
  }

  async function expectEveryCreditOnce(
    fans: readonly string[],
    sent: readonly Credit[],
    acknowledged: readonly Credit[],
  ) {
    const references = sent.map((c) => c.reference);
    const before = await stored(references);
    // Every 201 is there, once, with its fan and amount (ids, not records: see crash.e2e).
    const lost = acknowledged.filter((c) => {
      const found = before.get(c.reference);
      return (
        found?.length !== 1 || found[0].fanId !== c.fanId || found[0].amountMinor !== c.amountMinor
      );
    });
    expect(lost.map((c) => c.reference)).toEqual([]);
    // Nothing sent is there twice, or with another fan or amount than it was sent with.
    const bySent = new Map(sent.map((c) => [c.reference, c]));
    const wrong = [...before].filter(
      ([ref, found]) =>
        found.length !== 1 ||
        found[0].fanId !== bySent.get(ref)?.fanId ||
        found[0].amountMinor !== bySent.get(ref)?.amountMinor,
    );
    expect(wrong.map(([ref]) => ref)).toEqual([]);
    const landed = sent.filter((c) => before.has(c.reference));
    expect(await balancesOf(db, fans)).toEqual(sums(fans, landed));

    // The client that never got an answer sends again with the same reference: 200 (nothing
    // moved) for every credit that landed, acknowledged or not; 201 only for one that did not.
    const statuses = await retryAll(sent);
    const misanswered = sent.filter(
      (c) => statuses.get(c.reference) !== (before.has(c.reference) ? 200 : 201),
    );
    expect(misanswered.map((c) => `${c.reference}: ${statuses.get(c.reference)}`)).toEqual([]);
    const after = await stored(references);
    expect(
      sent.filter((c) => after.get(c.reference)?.length !== 1).map((c) => c.reference),
    ).toEqual([]);
    expect(await balancesOf(db, fans)).toEqual(sums(fans, sent));
    // Every transfer balanced, every balance the sum of its entries (the ledger's invariants).
    expect((await runAudit(new Inventory(redis), new LedgerFacts(db), [])).breaches).toEqual([]);
    return { landedUnacknowledged: landed.length - acknowledged.length };
  }

  async function killMidCredits(kill: () => void, restart: () => Promise<void>, what: string) {
    const fans = fanIds(FANS);
    const sent: Credit[] = [];
    const load = credits(fans, sent);
    const phases = await killMidLoad(load, kill, restart, {
      ackBefore: ACKS_BEFORE,
      ackAfter: ACKS_AFTER,
    });
    const result = await expectEveryCreditOnce(fans, sent, load.acknowledged);
    console.log(
      `${what} kill -9 mid-credits: ${phasesLine(phases)}; ${sent.length} sent, ` +
        `${result.landedUnacknowledged} landed without their answer, ${load.failures} refused or failed`,
    );
  }

  // One round each in npm test; SOAK_ROUNDS of them under npm run test:soak.
  it.each(roundNumbers(1))(
    'kill -9 of the wallet: every 201 credit once, a retry with its reference moves nothing twice (round %i)',
    async () => {
      await killMidCredits(
        () => own.kill9('wallet'),
        () => own.restart('wallet'),
        'wallet',
      );
    },
    120_000,
  );

  it.each(roundNumbers(1))(
    'kill -9 of the API: every 201 credit once, a retry with its reference moves nothing twice (round %i)',
    async () => {
      await killMidCredits(
        () => own.kill9('api'),
        () => own.restart('api'),
        'API',
      );
    },
    120_000,
  );
});
