import { Order } from '@flashdrop/contracts';

/** The export's CSV columns, in order: the Order's fields (docs/api.md "Fans"). */
export const ORDER_CSV_COLUMNS = [
  'id',
  'dropId',
  'fanId',
  'quantity',
  'amountMinor',
  'currency',
  'status',
  'createdAt',
  'expiresAt',
  'paidAt',
  'unitPriceMinor',
  'discountMinor',
  'refundedAt',
] as const satisfies readonly (keyof Order)[];

/**
 * One RFC 4180 field: quoted when it holds a comma, a quote or a line break (quotes doubled).
 * Values are written as stored, never rewritten (ids are the platform's and must match the
 * brand's own records).
 */
function field(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const ORDER_CSV_HEADER = `${ORDER_CSV_COLUMNS.join(',')}\r\n`;

/** Orders as CSV lines (CRLF-terminated, as RFC 4180 has it). */
export function orderCsvLines(orders: readonly Order[]): string {
  let out = '';
  for (const o of orders) out += `${ORDER_CSV_COLUMNS.map((c) => field(o[c])).join(',')}\r\n`;
  return out;
}
