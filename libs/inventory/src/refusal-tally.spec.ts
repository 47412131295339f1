import { ErrorCode } from '@flashdrop/contracts';
import { RefusalTally } from './refusal-tally';

type Written = [string, Record<string, number>];

function tallyWriting(fail: () => boolean = () => false) {
  const written: Written[] = [];
  const tally = new RefusalTally(async (dropId, counts: ReadonlyMap<ErrorCode, number>) => {
    await Promise.resolve();
    if (fail()) throw new Error('redis down');
    written.push([dropId, Object.fromEntries(counts)]);
  }, 20);
  return { tally, written };
}

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

  it('flushes on its own after the interval', async () => {
    const { tally, written } = tallyWriting();
    tally.record('d1', 'SOLD_OUT');
    await new Promise((r) => setTimeout(r, 60));
    expect(written).toEqual([['d1', { SOLD_OUT: 1 }]]);
  });

  it('keeps the counts of a failed write for the next flush', async () => {
    let down = true;
    const { tally, written } = tallyWriting(() => down);
    tally.record('d1', 'SOLD_OUT', 3);
    await tally.flush();
    expect(written).toEqual([]);
    tally.record('d1', 'SOLD_OUT');
    down = false;
    await tally.flush();
    expect(written).toEqual([['d1', { SOLD_OUT: 4 }]]);
  });

  it('never writes a count twice when flushes overlap', async () => {
    const { tally, written } = tallyWriting();
    tally.record('d1', 'SOLD_OUT');
    const first = tally.flush();
    tally.record('d1', 'SOLD_OUT');
    await Promise.all([first, tally.flush(), tally.flush()]);
    const total = written.reduce((s, [, c]) => s + (c.SOLD_OUT ?? 0), 0);
    expect(total).toBe(2);
  });
});
