import type { AllocationKind } from '@flashdrop/fair';
import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * Ids chosen by the server. An order id embeds its drop id (`<dropId>-<16 chars>`), so an order
 * is found from its id alone, without a lookup table. Drop ids never contain '-'. The 16 chars
 * say how the order was made: 16 random hex digits (a grab); `w` and the draw rank in 15 digits
 * (a draw winner's hold); `r` and the allocation number in 15 digits (a released unit passed
 * down the waitlist). The last two are made inside the Lua scripts (_lib.lua, draw_winners.lua).
 */
const DROP_ID = /^d[0-9a-f]{12}$/;
const ORDER_ID = /^(d[0-9a-f]{12})-([0-9a-f]{16}|[wr][0-9]{15})$/;

export function newDropId(): string {
  return `d${randomBytes(6).toString('hex')}`;
}

export function newOrderId(dropId: string): string {
  return `${dropId}-${randomHex(8)}`;
}

/**
 * Random bytes for the grab's order ids, taken from the CSPRNG 4 KiB at a time, as Node's own
 * randomUUID does: a randomBytes call per grab (a native call and a buffer each) was 5.5% of the
 * API's busy time in the phone rush (load-tests/README.md "Where the time goes"). What must stay
 * true: no byte of the pool is handed out twice (`offset` only grows until the pool is refilled
 * whole), so ids are as unpredictable and as unique as randomBytes' own.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}

/**
 * A new group's id (group buy): `g` + 16 random hex digits; a group started by a passed-down
 * unit is `g` + that hold's allocation number in 15 digits (made in _lib.lua backfill_hold).
 */
export function newGroupId(): string {
  return `g${randomBytes(8).toString('hex')}`;
}

const GROUP_ID = /^g(?:[0-9a-f]{16}|[0-9]{15})$/;

export function isGroupId(value: string): boolean {
  return GROUP_ID.test(value);
}

export function isDropId(value: string): boolean {
  return DROP_ID.test(value);
}

/** The drop of an order id, or undefined when the id is not one of ours. */
export function dropIdOfOrder(orderId: string): string | undefined {
  return ORDER_ID.exec(orderId)?.[1];
}

/** How an order was made, from its id (see above): grab, draw, or backfill. */
export function allocationKindOf(orderId: string): AllocationKind {
  const tail = orderId.slice(orderId.indexOf('-') + 1);
  if (tail.startsWith('w')) return 'draw';
  if (tail.startsWith('r')) return 'backfill';
  return 'grab';
}
