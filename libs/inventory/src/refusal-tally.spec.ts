import { ErrorCode } from '@flashdrop/contracts';
import { RefusalTally } from './refusal-tally';

type Written = [string, Record<string, number>];

/**
 * A tally over a writer that, like count_refusals.lua, counts each batch id once; `fail` says
 * whether a write fails, and `landed` whether a failing write still landed (its reply lost).
 */
function tallyWriting(fail: () => boolean = () => false, landed = false) {
  const written: Written[] = [];
  const ids: string[] = [];
  const seen = new Set<string>();
  const tally = new RefusalTally(
    async (dropId, batchId, counts: ReadonlyMap<ErrorCode, number>) => {
      await Promise.resolve();
      ids.push(batchId);
      const failing = fail();
      if ((!failing || landed) && !seen.has(batchId)) {
        seen.add(batchId);
        written.push([dropId, Object.fromEntries(counts)]);
      }
      if (failing) throw new Error('redis down');
    },
    20,
  );
  return { tally, written, ids };
}

const total = (written: Written[]) => written.reduce((s, [, c]) => s + (c.SOLD_OUT ?? 0), 0);

describe('RefusalTally', () => {
  it('writes each drop once per flush with every code summed', async () => {
    const { tally, written } = tallyWriting();
    tally.record('d1', 'SOLD_OUT');
    tally.record('d1', 'SOLD_OUT');
    tally.record('d1', 'LIMIT_REACHED');
    tally.record('d2', 'SALE_PAUSED', 5);
    await tally.flush();
    expect(written).toEqual([
      ['d1', { SOLD_OUT: 2, LIMIT_REACHED: 1 }],
      ['d2', { SALE_PAUSED: 5 }],
    ]);
    await tally.flush();
    expect(written).toHaveLength(2);
  });

  // On jest's clock, not the machine's: "after the interval" is then exact, and a loaded box
  // can neither make the flush late nor the test early.
  it('flushes on its own once the interval has passed, and not before', async () => {
    jest.useFakeTimers();
    try {
      const { tally, written } = tallyWriting();
      tally.record('d1', 'SOLD_OUT');
      await jest.advanceTimersByTimeAsync(19);
      expect(written).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(written).toEqual([['d1', { SOLD_OUT: 1 }]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('retries a failed write on its own at the next interval', async () => {
    jest.useFakeTimers();
    try {
      let down = true;
      const { tally, written } = tallyWriting(() => down);
      tally.record('d1', 'SOLD_OUT', 2);
      await jest.advanceTimersByTimeAsync(20);
      expect(written).toEqual([]);
      down = false;
      await jest.advanceTimersByTimeAsync(20);
      expect(written).toEqual([['d1', { SOLD_OUT: 2 }]]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('re-sends a failed batch under its own id, then the newer counts', async () => {
    let down = true;
    const { tally, written, ids } = tallyWriting(() => down);
    tally.record('d1', 'SOLD_OUT', 3);
    await tally.flush();
    expect(written).toEqual([]);
    tally.record('d1', 'SOLD_OUT');
    down = false;
    await tally.flush();
    expect(written).toEqual([
      ['d1', { SOLD_OUT: 3 }],
      ['d1', { SOLD_OUT: 1 }],
    ]);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('never counts twice a batch that landed though its write failed (reply lost)', async () => {
    let down = true;
    const { tally, written } = tallyWriting(() => down, true);
    tally.record('d1', 'SOLD_OUT', 3);
    await tally.flush();
    down = false;
    await tally.flush();
    expect(total(written)).toBe(3);
  });

  it('tries a failed batch again on its own', async () => {
    let down = true;
    const { tally, written } = tallyWriting(() => down);
    tally.record('d1', 'SOLD_OUT', 2);
    await tally.flush();
    down = false;
    await new Promise((r) => setTimeout(r, 80));
    expect(total(written)).toBe(2);
  });

  it('never writes a count twice when flushes overlap', async () => {
    const { tally, written } = tallyWriting();
    tally.record('d1', 'SOLD_OUT');
    const first = tally.flush();
    tally.record('d1', 'SOLD_OUT');
    await Promise.all([first, tally.flush(), tally.flush()]);
    expect(total(written)).toBe(2);
  });
});
