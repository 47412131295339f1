/**
 * Netstrings (`<byte length>:<bytes>,`, D. J. Bernstein's format): how every string that feeds
 * a hash here is framed, so that no two different lists of strings can hash alike (a fan id may
 * hold any character, a separator included).
 */
export function netstring(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length}:`, 'ascii'), bytes, Buffer.from(',')]);
}
