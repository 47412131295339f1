import { createHash } from 'node:crypto';
import { netstringText } from './netstring';

/**
 * Orders two strings as their UTF-8 bytes compare (= by Unicode code point). JavaScript's own
 * `<` compares UTF-16 code units, which differs only between a surrogate pair (U+10000 and up)
 * and a character from U+E000 to U+FFFF; each code unit is mapped so that both orders agree.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrder(x) - codePointOrder(y);
  }
  return a.length - b.length;
}

function codePointOrder(unit: number): number {
  if (unit < 0xd800) return unit;
  if (unit < 0xe000) return unit + 0x2000; // surrogates: after every other code unit
  return unit - 0x800;
}

/** Any character at or above U+D800, where UTF-16 order and UTF-8 order can disagree. */
const HIGH_UNITS = /[\ud800-\uffff]/;

/**
 * The entrants of a draw: the reservations' fan ids, each once, sorted by their UTF-8 bytes.
 * Ids made only of characters below U+D800 (every usual id) are sorted by the engine's native
 * comparison, which then gives the same order several times faster.
 */
export function sortEntrants(fanIds: Iterable<string>): string[] {
  const unique = [...new Set(fanIds)];
  if (unique.some((id) => HIGH_UNITS.test(id))) return unique.sort(compareUtf8);
  return unique.sort();
}

/**
 * `entrantsDigest`: the lower-case hex SHA-256 of the entrants in their sorted order, each as a
 * netstring of its UTF-8 bytes (`<byte length>:<bytes>,`), concatenated.
 */
export function entrantsDigest(entrants: Iterable<string>): string {
  const hash = createHash('sha256');
  for (const id of entrants) hash.update(netstringText(id), 'utf8');
  return hash.digest('hex');
}
