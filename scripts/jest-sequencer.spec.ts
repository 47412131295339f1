import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

interface Test {
  readonly path: string;
}
interface ShardingSequencer {
  shard(tests: Test[], options: { shardIndex: number; shardCount: number }): Test[];
}

const ROOT = resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's own plain JS module
const Sequencer = require('./jest-sequencer.js') as new () => ShardingSequencer;
const weights = JSON.parse(readFileSync(join(__dirname, 'jest-weights.json'), 'utf8')) as Record<
  string,
  number
>;
const COVERAGE = join(ROOT, 'apps/api/test/openapi-coverage.e2e-spec.ts');

/**
 * npm test's shards side by side (scripts/test.sh) must together run every test file exactly
 * once, the OpenAPI coverage check in none of them (test.sh runs it after them, over all of
 * their statuses), and end at about the same time.
 */
describe('the jest shards of npm test (scripts/jest-sequencer.js)', () => {
  // The measured files, two nobody has measured yet, and the coverage check.
  const tests: Test[] = [
    ...Object.keys(weights).map((rel) => ({ path: join(ROOT, rel) })),
    { path: join(ROOT, 'apps/api/test/not-measured-yet.e2e-spec.ts') },
    { path: join(ROOT, 'libs/x/src/not-measured-yet.int-spec.ts') },
    { path: COVERAGE },
  ];

  it.each([[2], [3]])('%i shards: each file in exactly one, the coverage check in none', (n) => {
    const shards = Array.from({ length: n }, (_, i) =>
      new Sequencer().shard(tests, { shardIndex: i + 1, shardCount: n }).map((t) => t.path),
    );
    const all = shards.flat();
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(
      tests
        .map((t) => t.path)
        .filter((p) => p !== COVERAGE)
        .sort(),
    );
  });

  it('two shards of about equal measured time, whatever order jest lists the files in', () => {
    const seconds = (paths: Test[]) =>
      paths.reduce((s, t) => s + (weights[t.path.slice(ROOT.length + 1)] ?? 0), 0);
    const longest = Math.max(...Object.values(weights));
    const reversed = [...tests].reverse();
    const [a, b] = [1, 2].map((i) =>
      new Sequencer().shard(tests, { shardIndex: i, shardCount: 2 }),
    );
    // Longest first onto the lighter shard: they differ by at most one file's time.
    expect(Math.abs(seconds(a) - seconds(b))).toBeLessThanOrEqual(longest);
    // Every shard's process computes the same split from the same files.
    expect(new Sequencer().shard(reversed, { shardIndex: 1, shardCount: 2 })).toEqual(a);
  });
});
