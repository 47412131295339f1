import { GroupCommit, ItemResult } from './group-commit';

interface Item {
  readonly key: string;
  readonly n: number;
}

/** A run function that records each batch and answers when `release` is called. */
function recorder(
  answer: (item: Item) => ItemResult<string> = (i) => ({ ok: true, value: `${i.key}${i.n}` }),
) {
  const batches: Item[][] = [];
  const pending: (() => void)[] = [];
  const run = (items: readonly Item[]) =>
    new Promise<ItemResult<string>[]>((resolve) => {
      batches.push([...items]);
      pending.push(() => resolve(items.map(answer)));
    });
  const release = () => pending.splice(0).forEach((f) => f());
  return { batches, run, release };
}

/** A few turns of the event loop: enough for a finished batch to let the next one go. */
const limits = { maxInFlight: 1, maxQueued: 100, overloaded: () => new Error('overloaded') };

const tick = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('GroupCommit', () => {
  it('coalesces the items of one turn into one batch and answers each after its batch', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.run, { ...limits, maxBatch: 10, keyOf: (i) => i.key });
    let answered = 0;
    const replies = ['a', 'b', 'c'].map((key) =>
      gc.submit({ key, n: 1 }).then((v) => (answered++, v)),
    );
    await tick();
    expect(r.batches.map((b) => b.map((i) => i.key))).toEqual([['a', 'b', 'c']]);
    expect(answered).toBe(0); // nothing acknowledged before the batch finished
    r.release();
    expect(await Promise.all(replies)).toEqual(['a1', 'b1', 'c1']);
  });

  it('queues while maxInFlight batches run, then sends what queued as the next batches', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.run, { ...limits, maxBatch: 2, keyOf: (i) => i.key });
    const first = gc.submit({ key: 'a', n: 1 });
    await tick();
    const later = ['b', 'c', 'd'].map((key) => gc.submit({ key, n: 1 }));
    await tick();
    expect(r.batches).toHaveLength(1);
    expect(gc.queued).toBe(3);
    r.release();
    await first;
    await tick();
    expect(r.batches.map((b) => b.map((i) => i.key))).toEqual([['a'], ['b', 'c']]);
    r.release();
    await tick();
    await tick();
    expect(r.batches.map((b) => b.map((i) => i.key))).toEqual([['a'], ['b', 'c'], ['d']]);
    r.release();
    expect(await Promise.all(later)).toEqual(['b1', 'c1', 'd1']);
  });

  it('never puts two items of one key in a batch; the same ask shares one item', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.run, {
      ...limits,
      maxBatch: 10,
      keyOf: (i) => i.key,
      sameAs: (queued, i) => queued.n === i.n,
    });
    const replies = [
      gc.submit({ key: 'a', n: 1 }),
      gc.submit({ key: 'a', n: 1 }), // the same attempt: shares the first one's item
      gc.submit({ key: 'a', n: 2 }), // another attempt of `a`: waits for the next batch
      gc.submit({ key: 'b', n: 1 }),
    ];
    await tick();
    r.release();
    await tick();
    await tick();
    r.release();
    expect(await Promise.all(replies)).toEqual(['a1', 'a1', 'a2', 'b1']);
    expect(r.batches.map((b) => b.map((i) => `${i.key}${i.n}`))).toEqual([['a1', 'b1'], ['a2']]);
  });

  it('fails only the items that failed, and every item when the batch itself fails', async () => {
    const r = recorder((i) =>
      i.key === 'x' ? { ok: false, error: new Error('no') } : { ok: true, value: i.key },
    );
    const gc = new GroupCommit(r.run, { ...limits, maxBatch: 10, keyOf: (i) => i.key });
    const replies = ['x', 'y'].map((key) => gc.submit({ key, n: 1 }));
    await tick();
    r.release();
    await expect(replies[0]).rejects.toThrow('no');
    await expect(replies[1]).resolves.toBe('y');

    const broken = new GroupCommit<Item, string>(() => Promise.reject(new Error('down')), {
      ...limits,
      maxBatch: 10,
      keyOf: (i) => i.key,
    });
    const both = ['p', 'q'].map((key) => broken.submit({ key, n: 1 }));
    await expect(Promise.allSettled(both)).resolves.toEqual([
      { status: 'rejected', reason: new Error('down') },
      { status: 'rejected', reason: new Error('down') },
    ]);
  });

  it('refuses at once what would queue beyond maxQueued', async () => {
    const r = recorder();
    const gc = new GroupCommit(r.run, {
      ...limits,
      maxQueued: 2,
      maxBatch: 10,
      keyOf: (i) => i.key,
    });
    const first = gc.submit({ key: 'a', n: 1 });
    await tick(); // `a` is in flight; the next two queue, the fourth is refused
    const queued = ['b', 'c'].map((key) => gc.submit({ key, n: 1 }));
    await expect(gc.submit({ key: 'd', n: 1 })).rejects.toThrow('overloaded');
    r.release();
    await first;
    await tick();
    r.release();
    expect(await Promise.all(queued)).toEqual(['b1', 'c1']);
  });
});
