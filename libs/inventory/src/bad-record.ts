/**
 * A record of the sale in Redis that fails its check (a drop's mirrored hash whose times are
 * not times, an order whose quantity is not a number): the scripts answer BAD_RECORD for it and
 * write nothing, and the Inventory throws this. Callers that can rebuild the record from the
 * stored truth (a drop from PostgreSQL) catch it and do; lists leave the record out with a log
 * line rather than fail whole.
 */
export class BadRecordError extends Error {
  constructor(
    /** `drop`, `order` or (group buy) `group`. */
    readonly kind: 'drop' | 'order' | 'group',
    readonly id: string,
    detail: string,
  ) {
    super(`the ${kind} ${id} in Redis is not a valid record: ${detail}`);
    this.name = 'BadRecordError';
  }
}
