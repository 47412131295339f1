// jest's default order (slowest and failed first), except that the OpenAPI coverage check runs
// last: it reads the statuses every other e2e test saw (libs/testing api(), API_STATUS_LOG).
// Sharded (npm test runs its jest work as two shards side by side, scripts/test.sh): the files
// are split by their last measured wall time (scripts/jest-weights.json, longest first onto the
// lighter shard), so the shards end together; the split depends only on the list of files, so
// every shard computes the same one and each file runs in exactly one. The coverage check is in
// no shard: it must see the statuses of all of them, so test.sh runs it after they are done.
const Sequencer = require('@jest/test-sequencer').default;
const { existsSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const LAST = /openapi-coverage\.e2e-spec\.ts$/;
const ROOT = join(__dirname, '..');
const WEIGHTS = join(__dirname, 'jest-weights.json');
// A file not measured yet (new since jest-weights.json was written): a typical one of its tier.
const UNKNOWN_SECONDS = { e2e: 5, int: 2, unit: 0.2 };

function weightsOf() {
  return existsSync(WEIGHTS) ? JSON.parse(readFileSync(WEIGHTS, 'utf8')) : {};
}

function weightOf(weights, path) {
  const rel = relative(ROOT, path);
  if (rel in weights) return weights[rel];
  if (/\.e2e-spec\.ts$/.test(rel)) return UNKNOWN_SECONDS.e2e;
  return /\.int-spec\.ts$/.test(rel) ? UNKNOWN_SECONDS.int : UNKNOWN_SECONDS.unit;
}

class LastIsCoverage extends Sequencer {
  shard(tests, { shardIndex, shardCount }) {
    const weights = weightsOf();
    const byWeight = tests
      .filter((t) => !LAST.test(t.path))
      .map((t) => ({ t, w: weightOf(weights, t.path) }))
      .sort((a, b) => b.w - a.w || (a.t.path < b.t.path ? -1 : 1));
    const load = Array(shardCount).fill(0);
    const mine = [];
    for (const { t, w } of byWeight) {
      const lightest = load.indexOf(Math.min(...load));
      load[lightest] += w;
      if (lightest === shardIndex - 1) mine.push(t);
    }
    return mine;
  }

  async sort(tests) {
    const sorted = await super.sort(tests);
    return [
      ...sorted.filter((t) => !LAST.test(t.path)),
      ...sorted.filter((t) => LAST.test(t.path)),
    ];
  }
}

module.exports = LastIsCoverage;
