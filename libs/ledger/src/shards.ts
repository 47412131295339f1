/**
 * How many shards each system account (external funding, a brand's revenue) is split into.
 * Each payment adds to one shard, chosen by its order id, so concurrent payments to one brand
 * spread over this many rows instead of queueing on one. Changing it is safe at any time: an
 * owner's balance is the sum of whatever shards exist.
 */
export const SYSTEM_ACCOUNT_SHARDS = 16;

/** A stable shard for a key (FNV-1a), the same in every process. */
export function shardOf(key: string, shards = SYSTEM_ACCOUNT_SHARDS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}
