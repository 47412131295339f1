import { ReportSecond } from './drop-report.dto';

/** The report's CSV columns: one row per second of the sale with something in it. */
export const REPORT_CSV_COLUMNS = [
  'at',
  'grabbed',
  'backfilled',
  'paid',
  'expired',
  'cancelled',
  'refunded',
  'taken',
] as const satisfies readonly (keyof ReportSecond)[];

/** The seconds as RFC 4180 CSV (CRLF lines, a header first); no field needs quoting. */
export function reportCsv(seconds: readonly ReportSecond[]): string {
  let out = `${REPORT_CSV_COLUMNS.join(',')}\r\n`;
  for (const s of seconds) out += `${REPORT_CSV_COLUMNS.map((c) => s[c]).join(',')}\r\n`;
  return out;
}
