/**
 * Netstrings (`<byte length>:<bytes>,`, D. J. Bernstein's format): how every string that feeds
 * a hash here is framed, so that no two different lists of strings can hash alike (a fan id may
 * hold any character, a separator included).
 */
export function netstring(value: string): Buffer {
  return Buffer.from(netstringText(value), 'utf8');
}

/**
 * The same netstring as text, whose UTF-8 encoding is exactly `netstring(value)`'s bytes (the
 * length and the separators are ASCII): several of them joined feed a hash in one `update`, and
 * one encoding, instead of three Buffers and a copy per field (the allocation log hashes every
 * unit handed out, in the worker, during the rush).
 */
export function netstringText(value: string): string {
  return `${Buffer.byteLength(value, 'utf8')}:${value},`;
}
