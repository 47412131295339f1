import { createHash } from 'node:crypto';
import { netstringText } from './netstring';

/** How a unit was handed out. */
export type AllocationKind = 'grab' | 'draw' | 'backfill';

/** One entry of a drop's allocation log, without its hash (GET /v1/drops/:id/allocations). */
export interface AllocationFields {
  readonly seq: number;
  /** RFC 3339, UTC, milliseconds (`Date.prototype.toISOString`). */
  readonly at: string;
  readonly kind: AllocationKind;
  readonly orderId: string;
  readonly fanId: string;
  readonly quantity: number;
  /** The expired, cancelled or refunded order a backfill came from. */
  readonly fromOrderId?: string;
}

export interface AllocationEntry extends AllocationFields {
  readonly hash: string;
}

/** The `hash` before the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An entry's `hash`: the lower-case hex SHA-256 of netstrings (`<byte length>:<bytes>,`) of,
 * in this order: the previous entry's hash (GENESIS_HASH for the first), seq (decimal), at,
 * kind, orderId, fanId, quantity (decimal), fromOrderId ('' when absent).
 */
export function allocationHash(previousHash: string, e: AllocationFields): string {
  const framed =
    netstringText(previousHash) +
    netstringText(String(e.seq)) +
    netstringText(e.at) +
    netstringText(e.kind) +
    netstringText(e.orderId) +
    netstringText(e.fanId) +
    netstringText(String(e.quantity)) +
    netstringText(e.fromOrderId ?? '');
  return createHash('sha256').update(framed, 'utf8').digest('hex');
}

/** The problems of a log read in order from its first entry (none: []). */
export function chainProblems(
  entries: readonly AllocationEntry[],
  previousHash = GENESIS_HASH,
  firstSeq = 1,
): string[] {
  const problems: string[] = [];
  let prev = previousHash;
  let expected = firstSeq;
  for (const e of entries) {
    if (e.seq !== expected) problems.push(`entry ${e.seq}: expected seq ${expected}`);
    const hash = allocationHash(prev, e);
    if (hash !== e.hash) problems.push(`entry ${e.seq}: hash ${e.hash} != recomputed ${hash}`);
    prev = e.hash;
    expected = e.seq + 1;
  }
  return problems;
}
