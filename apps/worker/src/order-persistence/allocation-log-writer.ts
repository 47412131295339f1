import { Logger } from '@nestjs/common';
import { allocationHash, AllocationEntry, GENESIS_HASH } from '@flashdrop/fair';
import { handedOutBy, type OutboxEntry } from '@flashdrop/inventory';
import { AllocationHead, AllocationRecords } from '@flashdrop/sales';

/**
 * Chains a drop's allocation log (API.md "Fair launch", DESIGN.md invariant 8) off the hot
 * path: the Lua step that hands a unit out numbers it (`seq`, in the event it writes); this
 * writer, fed one drop's outbox entries in stream order by order persistence, hashes each entry
 * onto the one before and appends it to `sales.allocations` (libs/sales).
 *
 * Why it is right: one drop's events reach its stream in the order the scripts ran, which is
 * the order they took their seq, so entries arrive in seq order. An entry at or below the
 * stored head was written before (a replay after a crash before the acknowledgement) and is
 * skipped; the chain is deterministic, so a replayed write would be identical anyway. A gap
 * (seq beyond head + 1) can only mean entries trimmed before this log existed (a drop older
 * than the log): that drop gets no log, with a warning, rather than a chain that lies.
 */
export class AllocationLogWriter {
  private readonly logger = new Logger(AllocationLogWriter.name);
  /** The last entry written per drop (read from PostgreSQL on first use). */
  private readonly heads = new Map<string, AllocationHead>();
  private readonly broken = new Set<string>();

  constructor(private readonly records: AllocationRecords) {}

  /** Forget what is cached (a new lease holder: another writer may have moved the heads). */
  reset(): void {
    this.heads.clear();
  }

  /** Appends the allocations among one drop's entries (in stream order); answers how many. */
  async append(dropId: string, entries: readonly OutboxEntry[]): Promise<number> {
    // Events written before the log existed carry no seq: handedOutBy skips them.
    const handedOut = entries.flatMap((e) => handedOutBy(e) ?? []);
    if (handedOut.length === 0 || this.broken.has(dropId)) return 0;
    let head = this.heads.get(dropId) ?? (await this.records.head(dropId));
    const chained: AllocationEntry[] = [];
    for (const fields of handedOut) {
      const last = head?.seq ?? 0;
      if (fields.seq <= last) continue;
      if (fields.seq !== last + 1) {
        this.broken.add(dropId);
        this.logger.warn(
          { dropId, expected: last + 1, got: fields.seq },
          'allocation log: entries missing from the stream (trimmed before the log existed); this drop gets no log',
        );
        break;
      }
      const hash = allocationHash(head?.hash ?? GENESIS_HASH, fields);
      chained.push({ ...fields, hash });
      head = { seq: fields.seq, hash };
    }
    await this.records.append(dropId, chained);
    if (head) this.heads.set(dropId, head);
    return chained.length;
  }
}
