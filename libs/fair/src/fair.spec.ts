import {
  allocationHash,
  chainProblems,
  compareUtf8,
  entrantsDigest,
  GENESIS_HASH,
  netstring,
  netstringText,
  SeedStream,
  seedCommitment,
  shuffle,
  sortEntrants,
} from './index';

/**
 * The published procedures, pinned by vectors computed by an independent implementation
 * (Python's hashlib, written from docs/fair-launch.md alone): a change to any of them would
 * make every past draw and log unverifiable, so these values must never change.
 */
describe('fair launch procedures', () => {
  const entrants = Array.from({ length: 10 }, (_, i) => `fan-${String(i).padStart(2, '0')}`);
  const seed = '3f1c'.repeat(16);

  it('shuffles as the reference implementation does', () => {
    expect(shuffle(entrants, seed)).toEqual([
      'fan-00',
      'fan-06',
      'fan-05',
      'fan-09',
      'fan-08',
      'fan-04',
      'fan-02',
      'fan-03',
      'fan-07',
      'fan-01',
    ]);
  });

  it('digests the entrants and commits to the seed as the reference does', () => {
    expect(entrantsDigest(entrants)).toBe(
      '631dbcec0704c4a4d6344797add1cefa23de24807c6ef33fe3402e0ede4f724e',
    );
    expect(seedCommitment(seed)).toBe(
      '4e7c22002894dc10126bfeb74026db3444384f1c908869fdb2956fe8054c73a5',
    );
  });

  it('chains allocation hashes as the reference does', () => {
    const first = {
      seq: 1,
      at: '2026-12-01T12:00:00.000Z',
      kind: 'grab' as const,
      orderId: 'd000000000001-00000000000000aa',
      fanId: 'fan-1',
      quantity: 2,
    };
    const h1 = allocationHash(GENESIS_HASH, first);
    expect(h1).toBe('3646f40ede17d06df9b27968a6dc553ac3bfa95c522b95f757f114a96358d9a9');
    const second = {
      seq: 2,
      at: '2026-12-01T12:00:01.500Z',
      kind: 'backfill' as const,
      orderId: 'd000000000001-r000000000000002',
      fanId: 'fan-é',
      quantity: 1,
      fromOrderId: first.orderId,
    };
    const h2 = allocationHash(h1, second);
    expect(h2).toBe('d29b1231a2687b2558b74cadbe4cb721d776ac4c081a35ddb8090dd0bf000542');
    const log = [
      { ...first, hash: h1 },
      { ...second, hash: h2 },
    ];
    expect(chainProblems(log)).toEqual([]);
    // A rewritten entry, or one taken out, breaks the chain from there on.
    expect(chainProblems([{ ...log[0], fanId: 'fan-2' }, log[1]])).toHaveLength(1);
    expect(chainProblems([log[1]])).not.toEqual([]);
  });

  it('frames a netstring as text whose UTF-8 bytes are exactly the netstring', () => {
    // The reference: the byte length in ASCII, ':', the UTF-8 bytes, ','.
    const reference = (value: string) => {
      const bytes = Buffer.from(value, 'utf8');
      return Buffer.concat([Buffer.from(`${bytes.length}:`, 'ascii'), bytes, Buffer.from(',')]);
    };
    // Empty, ASCII, separators inside, 2- and 4-byte characters, lone surrogates (3 bytes each).
    for (const value of [
      '',
      'fan-1',
      '1:a,',
      'fan-é',
      '\u{1F600}x',
      '\ud800',
      'a\udc00',
      '\ud800,',
    ]) {
      expect(netstring(value)).toEqual(reference(value));
      expect(Buffer.from(netstringText(value), 'utf8')).toEqual(reference(value));
    }
    // Joined, as allocationHash and entrantsDigest feed them: the same bytes as one by one.
    const values = ['a\ud800', '\udc00b', 'fan-é'];
    expect(Buffer.from(values.map(netstringText).join(''), 'utf8')).toEqual(
      Buffer.concat(values.map(reference)),
    );
  });

  it('sorts by UTF-8 bytes, also where UTF-16 order differs', () => {
    const astral = '\u{1F600}';
    expect(sortEntrants(['z', astral, '\ue000', 'a', 'a'])).toEqual(['a', 'z', '\ue000', astral]);
    expect(compareUtf8('\ue000', astral)).toBeLessThan(0);
    expect('\ue000' < astral).toBe(false); // what a plain comparison would get wrong
  });

  it('draws without bias: each of 3 values about a third of the time', () => {
    const stream = new SeedStream('bias');
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[stream.below(3)] += 1;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('a flipped seed or entrant gives another draw', () => {
    const winners = shuffle(entrants, seed).slice(0, 3);
    expect(shuffle(entrants, `${seed.slice(0, -1)}0`).slice(0, 3)).not.toEqual(winners);
    const flipped = entrants.map((e, i) => (i === 4 ? 'fan-99' : e));
    expect(entrantsDigest(flipped)).not.toBe(entrantsDigest(entrants));
  });
});
