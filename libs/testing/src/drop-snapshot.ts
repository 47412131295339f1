import { dropSlotTag } from '@flashdrop/inventory';
import type { RedisClient } from '@flashdrop/persistence';
import { Cluster } from 'ioredis';
import { DROPS_ACTIVE_KEY, DROPS_INDEX_KEY, dropKeys } from './inventory-fixtures';

/**
 * Everything stored under a drop's hash tag (`{d:ID}:*`: the drop, stock, reservations, the
 * fans' units and order lists, orders, holds, idempotency answers, counters, the outbox stream)
 * and its membership of `drops:index` and `drops:active`, flattened to `key` / `key#field` ->
 * value (a list's items by position), so a test can read "nothing written" off a diff of two
 * snapshots instead of the few keys it thought of. A stream is recorded by what an XADD changes
 * and a trim does not (`#last-id`, `#added`), so a relay trimming it in between is not a write.
 * `except` leaves out keys (e.g. analytics' own).
 */
export async function dropSnapshot(
  redis: RedisClient,
  dropId: string,
  except?: RegExp,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const keys: string[] = [];
  // A cluster client's SCAN asks one node of its choosing: every primary is scanned instead.
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(
        cursor,
        'MATCH',
        `${dropSlotTag(dropId)}:*`,
        'COUNT',
        1000,
      );
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  for (const key of keys.filter((k) => !except?.test(k)).sort()) {
    const type = await redis.type(key);
    if (type === 'string') out[key] = (await redis.get(key)) ?? '';
    else if (type === 'hash') {
      for (const [f, v] of Object.entries(await redis.hgetall(key))) out[`${key}#${f}`] = v;
    } else if (type === 'zset') {
      const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
      for (let i = 0; i < flat.length; i += 2) out[`${key}#${flat[i]}`] = flat[i + 1];
    } else if (type === 'list') {
      (await redis.lrange(key, 0, -1)).forEach((v, i) => (out[`${key}#${i}`] = v));
    } else if (type === 'set') {
      for (const m of await redis.smembers(key)) out[`${key}#${m}`] = '1';
    } else if (type === 'stream') {
      const info = (await redis.call('XINFO', 'STREAM', key)) as unknown[];
      const field = (name: string) => String(info[info.indexOf(name) + 1]);
      out[`${key}#last-id`] = field('last-generated-id');
      out[`${key}#added`] = field('entries-added');
    } else out[key] = `<${type}>`;
  }
  for (const index of [DROPS_INDEX_KEY, DROPS_ACTIVE_KEY]) {
    if (await redis.sismember(index, dropId)) out[`${index}#${dropId}`] = '1';
  }
  return out;
}

/** What changed between two snapshots: entry -> [before, after] (undefined: absent). */
export function snapshotDiff(
  before: Record<string, string>,
  after: Record<string, string>,
): Record<string, [string | undefined, string | undefined]> {
  const diff: Record<string, [string | undefined, string | undefined]> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] !== after[key]) diff[key] = [before[key], after[key]];
  }
  return diff;
}

/**
 * The diff with each run receipt (`{d:ID}:rcpt:<runId>`: count_refusals and share set one per
 * batch so that a second run of it counts nothing; the run ids are the caller's own) renamed
 * `rcpt:<run 1>`, `rcpt:<run 2>`, ..., so a test can expect "one receipt" by name.
 */
export function namingReceipts<V>(diff: Record<string, V>, dropId: string): Record<string, V> {
  const prefix = dropKeys(dropId).receipt('');
  const out: Record<string, V> = {};
  let n = 0;
  for (const [key, value] of Object.entries(diff)) {
    out[key.startsWith(prefix) ? dropKeys(dropId).receipt(`<run ${++n}>`) : key] = value;
  }
  return out;
}

/**
 * What the refusal tally's flush of one grab refusal writes under the drop, as snapshotDiff
 * entries (namingReceipts applied): the stats' attempts +1 and rej:<CODE> +1, one event on the
 * outbox stream (grab.rejected), the batch's receipt. `before` and `after` are the snapshots
 * around the refusal and the flush (the stream's new last id is read off `after`).
 */
export function refusalTallyWrites(
  { before, after }: { before: Record<string, string>; after: Record<string, string> },
  dropId: string,
  code: string,
): Record<string, [string | undefined, string | undefined]> {
  const k = dropKeys(dropId);
  const plusOne = (entry: string): [string | undefined, string] => [
    before[entry],
    String(Number(before[entry] ?? 0) + 1),
  ];
  return {
    [`${k.stats}#attempts`]: plusOne(`${k.stats}#attempts`),
    [`${k.stats}#rej:${code}`]: plusOne(`${k.stats}#rej:${code}`),
    [`${k.events}#last-id`]: [before[`${k.events}#last-id`], after[`${k.events}#last-id`]],
    [`${k.events}#added`]: plusOne(`${k.events}#added`),
    [k.receipt('<run 1>')]: [undefined, '1'],
  };
}
