import { DataSource } from 'typeorm';
import { DebitRequest } from '@flashdrop/contracts';
import { debitRequestOf, Inventory, InventoryOrder } from '@flashdrop/inventory';
import { LedgerRepository } from '@flashdrop/ledger';
import type { RedisClient } from '@flashdrop/persistence';
import { closeStackConnections, openStackConnections } from './postgres';
import { uniqueId } from './tokens';

/**
 * What the ledger's int specs start from (libs/ledger/src/*.int-spec.ts): the test stack's
 * Redis and PostgreSQL with the ledger on them, and real orders settled the way the API settles
 * them, so the audit can cross-check every debit (and reward) against its order. `open` in
 * beforeAll, `close` in afterAll.
 */
export class LedgerSpecFixture {
  private opened:
    | { redis: RedisClient; db: DataSource; inventory: Inventory; ledger: LedgerRepository }
    | undefined;

  async open(): Promise<void> {
    const { redis, db, inventory } = await openStackConnections();
    this.opened = { redis, db, inventory, ledger: new LedgerRepository(db) };
  }

  async close(): Promise<void> {
    await closeStackConnections(this.opened ?? {});
  }

  get redis(): RedisClient {
    return this.ready().redis;
  }

  get db(): DataSource {
    return this.ready().db;
  }

  get inventory(): Inventory {
    return this.ready().inventory;
  }

  get ledger(): LedgerRepository {
    return this.ready().ledger;
  }

  // The steps are bound (arrow functions), so a spec may take them apart:
  // `const { fund, begin, debitOf } = spec`.

  /** A top-up straight through the ledger, under a reference of its own. */
  readonly fund = (fanId: string, amountMinor: number) =>
    this.ledger.credit({ fanId, amountMinor, currency: 'CNY', reference: uniqueId('topup') });

  /**
   * held -> paying, as the API does before a debit, with a 60 s fence (so the stack's recovery
   * job leaves the order alone); the attempt is its payingUntil.
   */
  readonly begin = async (order: InventoryOrder): Promise<number> => {
    const begun = await this.inventory.beginPayment(order.id, { payingTtlMs: 60_000 });
    if (!begun.ok || begun.value.payingUntil === undefined) throw new Error('begin refused');
    return begun.value.payingUntil;
  };

  /** The debit the API sends for an order (PaymentsService sends the same). */
  readonly debitOf = (o: InventoryOrder, attempt: number, brandId: string): DebitRequest =>
    debitRequestOf(o, attempt, brandId);

  private ready() {
    if (!this.opened) throw new Error('LedgerSpecFixture: open() it in beforeAll first');
    return this.opened;
  }
}
