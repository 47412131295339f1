/**
 * Times on the wire (docs/api.md "General"): an RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.fraction]`
 * with `Z` or a `+HH:MM` / `-HH:MM` offset (`t` and `z` may be lower case, as RFC 3339 allows),
 * years 1970..9999. Everything else ISO 8601 also admits (week dates, ordinal dates, a date
 * alone, a time without a zone, the basic format) is refused, and so are dates that do not
 * exist (February 31st), hour 24 and the leap second `:60` (the sale clock, Redis TIME, is
 * POSIX time and has none). The one parser every border uses, HTTP bodies and queries alike.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The last instant docs/api.md admits (9999-12-31T23:59:59.999Z), in epoch ms. */
export const MAX_TIME_MS = 253_402_300_799_999;

/** What a refusal of a time field says. */
export const RFC3339_RULE =
  'must be an RFC 3339 date-time with Z or an offset, years 1970..9999 (e.g. 2030-01-01T12:00:00Z)';

/** Epoch milliseconds of an RFC 3339 date-time, or undefined when `text` is not one. */
export function parseRfc3339(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    return undefined;
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const [offsetHours, offsetMins] = [Number(m[10]), Number(m[11])];
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return ms >= 0 && ms <= MAX_TIME_MS ? ms : undefined;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
