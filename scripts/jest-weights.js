#!/usr/bin/env node
// Writes scripts/jest-weights.json: how long each test file took (seconds, from jest --json
// reports), which is all scripts/jest-sequencer.js needs to split npm test's jest work into
// shards of about equal wall time (jest's own timing cache is empty in a clean clone, as in CI).
// Only a balance: a stale or missing entry makes the shards less even, never drops a file.
// Usage: node scripts/jest-weights.js <jest-report.json>...   (e.g. $FLASHDROP_DATA_DIR/jest-report-*.json
// of the last whole npm test; run it when files are added or their times move a lot)
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const OUT = join(__dirname, 'jest-weights.json');

function main(reports) {
  if (reports.length === 0) {
    console.error('usage: node scripts/jest-weights.js <jest-report.json>...');
    process.exit(2);
  }
  const weights = {};
  for (const file of reports) {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    for (const t of report.testResults) {
      // Reports from another checkout of the repository name its paths: keep the part below the root.
      const rel = /(?:^|\/)((?:apps|libs|scripts|load-tests|simulation)\/.*)$/.exec(
        relative(ROOT, t.name),
      )?.[1];
      if (!rel) continue;
      const seconds = Math.round((t.endTime - t.startTime) / 100) / 10;
      weights[rel] = Math.max(weights[rel] ?? 0, seconds);
    }
  }
  const sorted = Object.fromEntries(Object.entries(weights).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(OUT, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`${Object.keys(sorted).length} files -> ${relative(ROOT, OUT)}`);
}

main(process.argv.slice(2));
