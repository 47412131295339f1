import type { RedisClient } from '@flashdrop/persistence';
import { DataSource } from 'typeorm';
import { DebitReply, DomainError } from '@flashdrop/contracts';
import { Inventory, InventoryOrder } from '@flashdrop/inventory';
import { balancesOf, debitsOf, fanIds, heldOrders, LedgerSpecFixture } from '@flashdrop/testing';
import { runAudit } from '@flashdrop/audit';
import { LedgerFacts } from './ledger-facts';
import { LedgerRepository } from './ledger.repository';

const PRICE = 1_999;

/**
 * Group commit against the real PostgreSQL (PAYMENTS.md "Batches"): the batch functions give
 * each item the outcome a call of its own would have, and concurrent batches over the same
 * fans and shards neither deadlock nor lose a cent. Orders are real held orders in Redis (their
 * payments begin with a 60 s fence, so the stack's recovery job leaves them alone), settled the
 * way the API would, so the audit can cross-check every debit against its order.
 */
describe('wallet batches (group commit)', () => {
  let redis: RedisClient;
  let db: DataSource;
  let inventory: Inventory;
  let ledger: LedgerRepository;

  const spec = new LedgerSpecFixture();
  const { fund, begin, debitOf } = spec;

  beforeAll(async () => {
    await spec.open();
    ({ redis, inventory, db, ledger } = spec);
  });

  afterAll(() => spec.close());

  /** What the API does with an outcome, so Redis and the ledger agree for the audit. */
  async function settleInRedis(o: InventoryOrder, attempt: number, outcome: string) {
    if (outcome === 'debited') expect((await inventory.completePayment(o.id)).ok).toBe(true);
    else await inventory.abortPayment(o.id, attempt);
  }

  /** Fences written by one transaction share its start time: how many rows each one wrote. */
  async function fencesPerTransaction(orderIds: readonly string[]): Promise<number[]> {
    const rows: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM wallet.payments WHERE order_id = ANY($1) GROUP BY created_at`,
      [orderIds],
    );
    return rows.map((r) => Number(r.n));
  }

  it('decides debited, declined, duplicated, voided and already-decided items in one batch', async () => {
    const [rich, poor, exact, none, voided, earlier] = fanIds(6);
    // `rich` has two orders and money for one and a half: the first debits, the second declines.
    const fans = [rich, rich, poor, exact, none, voided, earlier];
    const { drop, orders } = await heldOrders(inventory, fans, {
      priceMinor: PRICE,
      perUserLimit: 2,
    });
    await fund(rich, PRICE + PRICE / 2 + 0.5);
    await fund(poor, PRICE - 1);
    await fund(exact, PRICE);
    await fund(voided, PRICE);
    await fund(earlier, PRICE * 2);
    const attempts = await Promise.all(orders.map(begin));
    const [richA, richB, poorO, exactO, noneO, voidedO, earlierO] = orders;
    const at = (o: InventoryOrder) => attempts[orders.indexOf(o)];

    // Decided before the batch: one attempt debited on its own, one fenced off by recovery.
    const first = await ledger.debit(debitOf(earlierO, at(earlierO), drop.brandId));
    expect(first).toEqual({ orderId: earlierO.id, outcome: 'debited', balanceMinor: PRICE });
    expect(await ledger.settle({ orderId: voidedO.id, attempt: at(voidedO) })).toEqual({
      orderId: voidedO.id,
      outcome: 'voided',
    });

    // All submitted in one turn of the event loop: they coalesce into one batch; the same
    // attempt asked three times shares one item.
    const asked = [richA, richB, poorO, exactO, exactO, exactO, noneO, voidedO, earlierO];
    const replies = await Promise.all(
      asked.map((o) => ledger.debit(debitOf(o, at(o), drop.brandId))),
    );
    const outcome = (o: InventoryOrder) => replies[asked.indexOf(o)];
    expect(outcome(richA)).toEqual({
      orderId: richA.id,
      outcome: 'debited',
      balanceMinor: PRICE / 2 + 0.5,
    });
    expect(outcome(richB)).toMatchObject({ outcome: 'declined', balanceMinor: PRICE / 2 + 0.5 });
    expect(outcome(poorO)).toMatchObject({ outcome: 'declined', balanceMinor: PRICE - 1 });
    expect(replies.slice(3, 6)).toEqual([outcome(exactO), outcome(exactO), outcome(exactO)]);
    expect(outcome(exactO)).toMatchObject({ outcome: 'debited', balanceMinor: 0 });
    expect(outcome(noneO)).toMatchObject({ outcome: 'declined', balanceMinor: 0 });
    expect(outcome(voidedO)).toMatchObject({ outcome: 'voided', balanceMinor: PRICE });
    expect(outcome(earlierO)).toEqual(first);

    // One transaction wrote the new fences (richA, richB, poorO, exactO, noneO).
    expect(
      await fencesPerTransaction([richA, richB, poorO, exactO, noneO].map((o) => o.id)),
    ).toEqual([5]);
    // What did NOT happen: no second debit, nothing moved for the declined or voided ones.
    const debits = await debitsOf(
      db,
      orders.map((o) => o.id),
    );
    expect([...debits.keys()].sort()).toEqual([richA.id, exactO.id, earlierO.id].sort());
    expect([...debits.values()].every((d) => d.count === 1 && d.amount === PRICE)).toBe(true);
    const balances = await balancesOf(db, [rich, poor, exact, none, voided, earlier]);
    expect(Object.fromEntries(balances)).toEqual({
      [rich]: PRICE / 2 + 0.5,
      [poor]: PRICE - 1,
      [exact]: 0,
      [voided]: PRICE,
      [earlier]: PRICE,
    });
    const outbox: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM wallet.outbox WHERE type = 'wallet.debited' AND data->>'dropId' = $1`,
      [drop.id],
    );
    expect(Number(outbox[0].n)).toBe(3);

    for (const o of orders) {
      const reply = o === earlierO ? first : outcome(o);
      await settleInRedis(o, at(o), reply.outcome);
    }
    expect((await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches).toEqual(
      [],
    );
  });

  it('a batch one item of which must fail runs its items alone: only that one fails', async () => {
    const fans = fanIds(4);
    const { drop, orders } = await heldOrders(inventory, fans, { priceMinor: PRICE });
    // The first fan could pay twice: only the one-debit-per-order rule stops a second attempt.
    for (const f of fans) await fund(f, f === fans[0] ? 2 * PRICE : PRICE);
    const attempts = await Promise.all(orders.map(begin));
    const [paid, ...others] = orders;
    expect((await ledger.debit(debitOf(paid, attempts[0], drop.brandId))).outcome).toBe('debited');

    // A second attempt of an order another attempt debited: the database refuses it (one
    // transfer per order), which aborts the batch it rides in.
    const results = await Promise.allSettled([
      ledger.debit(debitOf(paid, attempts[0] + 1, drop.brandId)),
      ...others.map((o, i) => ledger.debit(debitOf(o, attempts[i + 1], drop.brandId))),
    ]);
    expect(results[0].status).toBe('rejected');
    const refusal = (results[0] as PromiseRejectedResult).reason as DomainError;
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal.code).toBe('ORDER_PAID');
    for (const r of results.slice(1)) {
      expect(r).toMatchObject({ status: 'fulfilled', value: { outcome: 'debited' } });
    }
    const debits = await debitsOf(
      db,
      orders.map((o) => o.id),
    );
    expect(orders.map((o) => debits.get(o.id)?.count)).toEqual([1, 1, 1, 1]);
    const fences: { n: string }[] = await db.query(
      `SELECT count(*) AS n FROM wallet.payments WHERE order_id = $1`,
      [paid.id],
    );
    expect(Number(fences[0].n)).toBe(1);
    for (const o of orders) await settleInRedis(o, attempts[orders.indexOf(o)], 'debited');
    expect((await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches).toEqual(
      [],
    );
  });

  it('concurrent batches of two wallets and credits over the same fans and shards: no deadlock, exact balances', async () => {
    // Several rounds of a fast race rather than one slow one: more interleavings per second.
    for (let round = 0; round < 6; round++) await raceOverSharedFans();
  }, 90_000);

  async function raceOverSharedFans(): Promise<void> {
    const FANS = 40;
    const ORDERS_PER_FAN = 5;
    const AFFORDABLE = 3;
    const fans = fanIds(FANS);
    const { drop, orders } = await heldOrders(
      inventory,
      fans.flatMap((f) => Array.from({ length: ORDERS_PER_FAN }, () => f)),
      { priceMinor: PRICE, perUserLimit: ORDERS_PER_FAN },
    );
    for (const f of fans) await fund(f, AFFORDABLE * PRICE);
    const attempts = await Promise.all(orders.map(begin));
    const asks = orders.map((o, i) => debitOf(o, attempts[i], drop.brandId));
    const other = new LedgerRepository(db);
    const runAloneBefore = ledger.batchesRunAlone;

    // Two wallets ask for every debit, in opposite orders, while each fan is topped up by 1
    // three times over: batches of both wallets and of credits lock the same fans and the
    // brand's 16 revenue shards at once. Whenever the top-ups land, exactly three orders fit.
    const [mine, theirs] = await Promise.all([
      Promise.all(asks.map((a) => ledger.debit(a))),
      Promise.all(
        [...asks]
          .reverse()
          .map((a) => other.debit(a))
          .reverse(),
      ),
      Promise.all([1, 2, 3].flatMap(() => fans.map((f) => fund(f, 1)))),
    ]);

    // Both wallets got the same recorded answer for every attempt.
    expect(mine.map((r) => r.outcome)).toEqual(theirs.map((r) => r.outcome));
    const debitedPerFan = new Map<string, number>();
    mine.forEach((r: DebitReply, i) => {
      if (r.outcome === 'debited') {
        debitedPerFan.set(asks[i].fanId, (debitedPerFan.get(asks[i].fanId) ?? 0) + 1);
      } else expect(r.outcome).toBe('declined');
    });
    expect(fans.filter((f) => debitedPerFan.get(f) !== AFFORDABLE)).toEqual([]);
    const balances = await balancesOf(db, fans);
    expect(fans.filter((f) => balances.get(f) !== 3)).toEqual([]);
    const debits = await debitsOf(
      db,
      orders.map((o) => o.id),
    );
    expect([...debits.values()].every((d) => d.count === 1)).toBe(true);
    expect(debits.size).toBe(FANS * AFFORDABLE);
    // Batches did form (a transaction wrote several fences), and none of these two wallets'
    // batches failed (a deadlock fails a batch, whose items are then run alone). Their own
    // counters, not the database's deadlock count, which other test files move meanwhile.
    expect(Math.max(...(await fencesPerTransaction(orders.map((o) => o.id))))).toBeGreaterThan(1);
    expect(ledger.batchesRunAlone - runAloneBefore + other.batchesRunAlone).toBe(0);

    await Promise.all(orders.map((o, i) => settleInRedis(o, attempts[i], mine[i].outcome)));
    expect((await runAudit(new Inventory(redis), new LedgerFacts(db), [drop.id])).breaches).toEqual(
      [],
    );
  }
});
