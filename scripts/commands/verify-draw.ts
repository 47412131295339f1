import { defineCommand, Flags } from '@flashdrop/cli';
import { HttpDrawSource, verifyDraw } from '@flashdrop/fair';

export const verifyDrawCommand = defineCommand({
  usage: 'npm run verify-draw --',
  title: "recompute a draw's winners from its public data; say whether they match",
  summary:
    'Recomputes the winners of a draw drop from its public data alone (GET /v1/drops/:id/draw, ' +
    '/draw/entrants and /v1/drops/:id: no token, no database) with the procedure ' +
    'docs/fair-launch.md spells out, and compares them with the published winners: the seed ' +
    'against the commitment published before the draw, the entrants against their count, order ' +
    'and digest, then the shuffle.',
  flags: {
    drop: { type: 'string', value: 'ID', required: true, description: 'the draw drop' },
    api: {
      type: 'string',
      value: 'URL',
      description: 'the Flashdrop API (default http://127.0.0.1:3000)',
    },
  },
  details: [
    'Exit codes: 0 the winners match, 1 they do not, 2 a bad command line, 3 the draw is not',
    'done yet or the API could not be read.',
  ],
  examples: ['npm run verify-draw -- --drop d0123456789ab --api https://flashdrop.example'],
});

/** `npm run verify-draw`: libs/fair verifyDraw over the public routes; progress on stderr. */
export async function verifyDrawCli(flags: Flags<typeof verifyDrawCommand.flags>): Promise<number> {
  const drop = flags.drop!;
  const api = (flags.api ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  process.stderr.write(`verify-draw: drop ${drop} at ${api}\n`);
  let shownAt = 0;
  const n = (x: number) => x.toLocaleString('en-US');
  let verdict;
  try {
    verdict = await verifyDraw(new HttpDrawSource(api, drop), (read, total) => {
      if (read === total || Date.now() - shownAt > 1000) {
        shownAt = Date.now();
        process.stderr.write(`verify-draw: read ${n(read)} of ${n(total)} entrants\n`);
      }
    });
  } catch (error) {
    process.stderr.write(
      `verify-draw: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 3;
  }
  for (const line of verdict.lines) console.log(line);
  if (verdict.verdict === 'not-drawn') return 3;
  console.log(
    verdict.verdict === 'match'
      ? 'MATCH: the published winners are the draw of the published seed and entrants'
      : 'MISMATCH: the published winners are not the draw of the published seed and entrants',
  );
  return verdict.verdict === 'match' ? 0 : 1;
}
