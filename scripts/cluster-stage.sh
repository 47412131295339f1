#!/usr/bin/env bash
# npm test's last stage (also npm run test:cluster-stage, and the end of npm run test:soak): the
# grab, reservation, payment and event-pipeline suites (scripts/lib/cluster-suites.sh) again
# with the test stack on the slot's own Redis Cluster (infra/redis-cluster.sh), so the one test
# command CI runs also proves the same code and Lua scripts on a cluster. Ends with one line for
# the whole of npm test: both jest runs added up. Runs only after a full run on one Redis: with
# TEST_FILTER set (a focused run), under npm run test:cluster (TEST_REDIS_CLUSTER=1: the whole
# suite is already on a cluster) or with SKIP_CLUSTER_STAGE=1 it does nothing.
# A jest run that cannot end (a test left a timer or socket running: session 7's ci-local hung
# here) fails instead, naming what is still active (scripts/jest-exit-watch.js).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -n "${TEST_FILTER:-}" ] || [ "${TEST_REDIS_CLUSTER:-0}" = 1 ] || [ "${SKIP_CLUSTER_STAGE:-0}" = 1 ]; then
  exit 0
fi
# shellcheck source=lib/cluster-suites.sh
source scripts/lib/cluster-suites.sh
data="${FLASHDROP_DATA_DIR:-$ROOT/.data}"
single="$data/jest-report-${TEST_SLOT:-0}.json"
cluster="$data/jest-report-${TEST_SLOT:-0}-cluster.json"
rm -f "$cluster"
printf '\n== cluster stage: %s on a Redis Cluster\n' "$CLUSTER_SUITES"
set +e
SKIP_STATIC=1 TEST_FILTER="$CLUSTER_SUITES" TEST_REDIS_CLUSTER=1 JEST_REPORT="$cluster" bash scripts/test.sh
rc=$?
set -e
node -e '
  const fs = require("node:fs");
  const [single, cluster] = process.argv.slice(1).map((f) => (fs.existsSync(f) ? require(f) : undefined));
  const sum = (k) => (single?.[k] ?? 0) + (cluster?.[k] ?? 0);
  console.log(`\nnpm test, one Redis and the cluster stage: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
' "$single" "$cluster"
exit "$rc"
