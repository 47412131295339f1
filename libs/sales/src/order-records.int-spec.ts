import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { InventoryOrder } from '@flashdrop/inventory';
import { freshDatabase, soakRounds, testProfileEnv } from '@flashdrop/testing';
import { DataSource } from 'typeorm';
import { OrderRecords } from './order-records';
import { migrateSales, salesDatabaseOptions } from './sales-database';

/**
 * `sales.orders`' storage positions against a real PostgreSQL (a database of this test's own):
 * an update never moves a row, and a reader paging while several writers store one drop's
 * orders lists each order once, never skipping one whose position a faster writer passed.
 */
describe('OrderRecords: storage positions and the pages read on them', () => {
  let db: DataSource;
  let records: OrderRecords;

  beforeAll(async () => {
    const url = await freshDatabase('sales_positions');
    const config = loadConfig(FlashdropConfig, { ...testProfileEnv(), DATABASE_URL: url });
    await migrateSales(config);
    db = new DataSource({
      ...salesDatabaseOptions(config, { applicationName: 'sales-int', poolSize: 12 }),
    });
    await db.initialize();
    records = new OrderRecords(db);
  }, 60_000);

  afterAll(() => db?.destroy());

  let counter = 0;
  const order = (dropId: string, status: InventoryOrder['status'] = 'held'): InventoryOrder => ({
    id: `${dropId}-${String(++counter).padStart(16, '0')}`,
    dropId,
    fanId: `fan-${counter}`,
    quantity: 1,
    amountMinor: 100,
    unitPriceMinor: 100,
    discountMinor: 0,
    currency: 'CNY',
    status,
    createdAt: Date.now(),
    expiresAt: Date.now() + 600_000,
    paidAt: status === 'paid' ? Date.now() : undefined,
  });

  /** Every order of the drop, page by page from position `after`. */
  async function readAll(dropId: string, after = 0, limit = 1000) {
    const ids: string[] = [];
    const seqs: number[] = [];
    for (;;) {
      const bounds = await records.pageBounds(dropId, { after, limit });
      if (bounds.last === undefined) return { ids, seqs, last: after };
      for await (const chunk of records.readPage(
        dropId,
        { after, upTo: bounds.last },
        undefined,
        7,
      )) {
        ids.push(...chunk.map((o) => o.id));
        seqs.push(...chunk.map((o) => o.seq));
      }
      after = bounds.last;
      if (!bounds.more) return { ids, seqs, last: after };
    }
  }

  it('numbers new rows in the order given and keeps a row where it is when it is updated', async () => {
    const drop = 'd00000000aa01';
    const first = [order(drop), order(drop), order(drop)];
    await records.upsert(first);
    const before = await readAll(drop);
    expect(before.ids).toEqual(first.map((o) => o.id));
    expect([...before.seqs].sort((a, b) => a - b)).toEqual(before.seqs);

    const later = order(drop);
    await records.upsert([{ ...first[0], status: 'paid', paidAt: Date.now() }, later]);
    await records.upsert([{ ...first[1], status: 'cancelled' }]);
    const after = await readAll(drop);
    expect(after.ids).toEqual([...first.map((o) => o.id), later.id]);
    expect(after.seqs.slice(0, 3)).toEqual(before.seqs);

    // A terminal status is final: a late copy neither moves the row nor its status.
    await records.upsert([{ ...first[1], status: 'held' }]);
    const statuses = (await db.query(
      `SELECT id, status FROM sales.orders WHERE drop_id = $1 ORDER BY seq`,
      [drop],
    )) as { id: string; status: string }[];
    expect(statuses.map((r) => r.status)).toEqual(['paid', 'cancelled', 'held', 'held']);
    expect((await readAll(drop)).seqs).toEqual(after.seqs);

    // A page filtered by status, and a page that ends early.
    const bounds = await records.pageBounds(drop, { after: 0, limit: 1, statuses: ['held'] });
    expect(bounds).toEqual({ last: after.seqs[2], more: true });
    const page = await records.pageBounds(drop, { after: after.seqs[2], limit: 5 });
    expect(page).toEqual({ last: after.seqs[3], more: false });
  });

  it('a refund under way is stored as it is, with its attempt; paid and refunding move to each other, refunded is final', async () => {
    const drop = 'd00000000aa02';
    const paid = order(drop, 'paid');
    await records.upsert([paid]);
    const stored = async () => {
      const found = await records.find(paid.fanId, paid.id);
      const [page] = await records
        .readPage(drop, { after: 0, upTo: Number.MAX_SAFE_INTEGER })
        .next()
        .then((r) => (r.value as { status: string; refundingSince?: number }[]) ?? []);
      return { status: found?.status, refundingSince: found?.refundingSince, page };
    };
    const attempt = Date.now() - 1_000;
    const refunding = { ...paid, status: 'refunding' as const, refundReason: 'r' };
    await records.upsert([{ ...refunding, refundingSince: attempt }]);
    expect(await stored()).toMatchObject({
      status: 'refunding',
      refundingSince: attempt,
      page: { status: 'refunding', refundingSince: attempt },
    });
    // Declined: paid again, the attempt gone; a later attempt; then refunded, which is final.
    await records.upsert([paid]);
    expect(await stored()).toMatchObject({ status: 'paid', refundingSince: undefined });
    await records.upsert([{ ...refunding, refundingSince: attempt + 5 }]);
    expect(await stored()).toMatchObject({ status: 'refunding', refundingSince: attempt + 5 });
    const refunded = {
      ...paid,
      status: 'refunded' as const,
      refundReason: 'r',
      refundedAt: Date.now(),
    };
    await records.upsert([refunded]);
    await records.upsert([{ ...refunding, refundingSince: attempt + 5 }, paid]);
    expect(await stored()).toMatchObject({ status: 'refunded', refundingSince: undefined });
    // The CHECKs: a refunding row has its attempt and its reason, and only a refunding row has
    // an attempt.
    const bad = order(drop, 'paid');
    await expect(
      records.upsert([{ ...bad, status: 'refunding', refundReason: 'r' }]),
    ).rejects.toThrow(/orders_refunding_since/);
    await expect(
      records.upsert([{ ...bad, status: 'refunding', refundingSince: attempt }]),
    ).rejects.toThrow(/orders_refunding_reason/);
  });

  it('a payment in flight is stored with its attempt; held and paying move to each other, paid is kept', async () => {
    const drop = 'd00000000aa03';
    const held = order(drop, 'held');
    await records.upsert([held]);
    const attempt = Date.now() + 15_000;
    await records.upsert([{ ...held, status: 'paying', payingUntil: attempt }]);
    expect(await records.find(held.fanId, held.id)).toMatchObject({
      status: 'paying',
      payingUntil: attempt,
    });
    // Declined, held again; a later attempt; then paid, which a late paying copy never undoes.
    await records.upsert([held]);
    expect(await records.find(held.fanId, held.id)).toMatchObject({ status: 'held' });
    expect((await records.find(held.fanId, held.id))?.payingUntil).toBeUndefined();
    await records.upsert([{ ...held, status: 'paying', payingUntil: attempt + 5 }]);
    expect(await records.find(held.fanId, held.id)).toMatchObject({ payingUntil: attempt + 5 });
    await records.upsert([{ ...held, status: 'paid', paidAt: Date.now() }]);
    await records.upsert([{ ...held, status: 'paying', payingUntil: attempt + 5 }]);
    expect(await records.find(held.fanId, held.id)).toMatchObject({ status: 'paid' });
    expect((await records.find(held.fanId, held.id))?.payingUntil).toBeUndefined();
    // The CHECK: a paying row has its attempt.
    await expect(records.upsert([{ ...order(drop, 'held'), status: 'paying' }])).rejects.toThrow(
      /orders_paying_until/,
    );
  });

  it('a writer blocked mid-statement holds back the writers after it: a reader skips nothing', async () => {
    const drop = 'd00000000cc01';
    const first = order(drop);
    await records.upsert([first]);
    const start = (await readAll(drop)).last;
    const waiting = async () =>
      Number(
        (
          (await db.query(
            `SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type IN ('Lock', 'Advisory')`,
          )) as { n: string }[]
        )[0].n,
      );
    const until = async (probe: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await probe()); i++) await new Promise((r) => setTimeout(r, 50));
    };

    // Writer A stores a new order, then waits on a row another transaction holds (its update of
    // `first`), with its new order's position already drawn.
    const holder = db.createQueryRunner();
    await holder.startTransaction();
    await holder.query(`SELECT id FROM sales.orders WHERE id = $1 FOR UPDATE`, [first.id]);
    const a = order(drop);
    const writerA = records.upsert([a, { ...first, status: 'paid', paidAt: Date.now() }]);
    await until(async () => (await waiting()) >= 1);
    // Writer B stores an order after it: its position is higher, so it must not be seen first.
    const b = order(drop);
    let bDone = false;
    const writerB = records.upsert([b]).then(() => (bDone = true));
    await until(async () => bDone || (await waiting()) >= 2);

    const seenEarly = await readAll(drop, start);
    await holder.commitTransaction();
    await holder.release();
    await Promise.all([writerA, writerB]);
    const seenLater = await readAll(drop, seenEarly.last);
    const listed = [...seenEarly.ids, ...seenLater.ids];
    expect(listed.sort()).toEqual([a.id, b.id].sort());
  });

  it('a reader paging while four writers store and update one drop lists every order once', async () => {
    for (let round = 0; round < soakRounds() * 3; round++) {
      const drop = `d0000000${String(round).padStart(3, '0')}bb`;
      const written: string[] = [];
      let writing = true;
      const writer = async () => {
        for (let batch = 0; batch < 15; batch++) {
          const fresh = Array.from({ length: 40 }, () => order(drop));
          // New rows and updates of rows already stored, in one statement, as the persister does.
          const updates = written
            .slice(-20)
            .map((id) => ({ ...order(drop), id, status: 'paid' as const }));
          await records.upsert([...fresh, ...updates]);
          written.push(...fresh.map((o) => o.id));
        }
      };
      const listed: string[] = [];
      const reader = (async () => {
        let after = 0;
        for (;;) {
          const stillWriting = writing;
          const page = await readAll(drop, after, 13);
          listed.push(...page.ids);
          after = page.last;
          if (!stillWriting) return;
        }
      })();
      await Promise.all([writer(), writer(), writer(), writer()]);
      writing = false;
      await reader;
      expect(listed.length).toBe(written.length);
      expect(new Set(listed).size).toBe(listed.length);
      expect([...listed].sort()).toEqual([...written].sort());
    }
  }, 120_000);
});
