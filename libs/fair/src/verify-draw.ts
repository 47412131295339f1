import { DRAW_ALGORITHM, seedCommitment, shuffle, winnersCount } from './draw';
import { compareUtf8, entrantsDigest } from './entrants';

/** GET /v1/drops/:id/draw, as published. */
export interface PublishedDrawView {
  readonly dropId: string;
  readonly algorithm: string;
  readonly seedCommitment?: string;
  readonly entrants: number;
  readonly entrantsDigest?: string;
  readonly seed?: string;
  readonly winners?: readonly string[];
  readonly drawnAt?: string;
}

/** Where a verifier reads a draw's public data (the API, or anything serving the same). */
export interface DrawSource {
  draw(): Promise<PublishedDrawView>;
  /** The drop's `quantity` (GET /v1/drops/:id). */
  quantity(): Promise<number>;
  /** One page of GET /v1/drops/:id/draw/entrants. */
  entrantsPage(cursor: string | undefined): Promise<{ items: string[]; nextCursor?: string }>;
}

export interface DrawVerdict {
  /** 'match': the winners are the draw of the published seed and entrants. */
  readonly verdict: 'match' | 'mismatch' | 'not-drawn';
  /** What was checked and how each came out, one line each. */
  readonly lines: readonly string[];
}

/**
 * Recomputes a draw from its public data only and compares it with the published winners:
 * the seed against its commitment, the entrants against their count, order and digest, then
 * the shuffle (docs/fair-launch.md) of those entrants with that seed.
 */
export async function verifyDraw(
  source: DrawSource,
  progress: (entrantsRead: number, entrants: number) => void = () => undefined,
): Promise<DrawVerdict> {
  const draw = await source.draw();
  const lines: string[] = [];
  let ok = true;
  const check = (passed: boolean, line: string) => {
    lines.push(`${passed ? 'ok  ' : 'FAIL'} ${line}`);
    ok &&= passed;
  };
  if (
    draw.seed === undefined ||
    draw.winners === undefined ||
    draw.seedCommitment === undefined ||
    draw.entrantsDigest === undefined
  ) {
    return { verdict: 'not-drawn', lines: ['the draw has not been done yet'] };
  }
  check(draw.algorithm === DRAW_ALGORITHM, `algorithm ${draw.algorithm}`);
  check(
    seedCommitment(draw.seed) === draw.seedCommitment,
    `SHA-256 of the seed is the commitment published before the draw (${draw.seedCommitment})`,
  );

  const entrants: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await source.entrantsPage(cursor);
    entrants.push(...page.items);
    progress(entrants.length, draw.entrants);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  check(
    entrants.length === draw.entrants,
    `${entrants.length} entrants, ${draw.entrants} published`,
  );
  let sorted = true;
  for (let i = 1; i < entrants.length && sorted; i++) {
    sorted = compareUtf8(entrants[i - 1], entrants[i]) < 0;
  }
  check(sorted, 'entrants sorted by UTF-8 bytes, each once');
  check(entrantsDigest(entrants) === draw.entrantsDigest, 'entrants match entrantsDigest');

  const expected = shuffle(entrants, draw.seed).slice(
    0,
    winnersCount(await source.quantity(), entrants.length),
  );
  const published = draw.winners;
  const same =
    expected.length === published.length && expected.every((fan, i) => fan === published[i]);
  check(same, `${published.length} winners, in rank order, are the recomputed draw's`);
  if (!same) {
    const at = expected.findIndex((fan, i) => fan !== published[i]);
    lines.push(
      `     first difference at rank ${at}: expected ${expected[at]}, published ${published[at]}`,
    );
  }
  return { verdict: ok ? 'match' : 'mismatch', lines };
}
