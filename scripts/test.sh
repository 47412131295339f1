#!/usr/bin/env bash
# `npm test`: static checks (Prettier, ESLint, TypeScript strict, k6 scripts), then every jest
# tier against the real Redis, PostgreSQL and Kafka, with the services of the `test` profile
# running beside any dev stack. Ends with one line: "N passed, N failed".
# Env: TEST_FILTER=<regex> runs only matching test files; SKIP_STATIC=1 skips the static checks;
#      TEST_SLOT=N runs a second test stack beside another one (scripts/profile-env.js);
#      TEST_REDIS_CLUSTER=1 (npm run test:cluster) runs it on the slot's own Redis Cluster.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/cli.sh
source scripts/lib/cli.sh
CLI_NAME="npm test"
usage_text="usage: npm test

Static checks (Prettier, ESLint, dependency rules, strict types, the k6 scripts), a build, fresh
test data, the test stack (its own ports, database, Redis db and topics), every jest tier
against the real Redis, PostgreSQL and Kafka, then the audit over what the tests left behind.
Ends with one line: jest: N passed, N failed, N skipped.

environment:
  TEST_FILTER=REGEX   only the test files whose path matches
  SKIP_STATIC=1       skip the static checks
  TEST_SLOT=N         a test stack of its own beside others (0..9; scripts/profile-env.js)
  SOAK_ROUNDS=N       how often the race tests repeat (npm run test:soak: 20)
  SKIP_BROWSER_TESTS=1  by hand, on a machine without Chromium: skip the browser tests
                      instead of failing them (ignored when CI is set)"
cli_no_args "$@"
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }

step "dependencies"; bash scripts/ensure-deps.sh
if [ "${SKIP_STATIC:-0}" != 1 ]; then
  step "format (prettier)"; npx prettier --check . --log-level warn
  step "lint (eslint)"; npx eslint "{apps,libs,load-tests,scripts,simulation}/**/*.ts" --max-warnings 0
  step "architecture (dependency-cruiser)"; npx depcruise apps libs scripts load-tests simulation --config .dependency-cruiser.js
  step "types (tsc strict)"; npx tsc -p tsconfig.json --noEmit
  if [ -f load-tests/tsconfig.json ]; then step "k6 scripts (tsc against @types/k6)"; npx tsc -p load-tests/tsconfig.json --noEmit; fi
fi
step "servers"; bash infra/up.sh >/dev/null
# The bench's compiled load generators (wrk, vegeta): load-tests/peers.int-spec.ts drives each.
step "load generators"; bash load-tests/generators/install.sh
# The OpenAPI fuzzer (schemathesis, in a venv under the data dir): apps/api/test/openapi-fuzz.e2e-spec.ts.
step "fuzzer"; bash scripts/fuzz/install.sh
step "build"; npm run --silent build

step "fresh test data"
set -a; source <(node scripts/profile-env.js test); set +a
bash scripts/services.sh stop test
if [ -n "$REDIS_CLUSTER_NODES" ]; then
  # npm run test:cluster: the slot's own Redis Cluster (started here, emptied like the db below).
  bash infra/redis-cluster.sh start
  bash infra/redis-cluster.sh flush
else
  redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null
fi
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c 'DROP SCHEMA IF EXISTS sales CASCADE; DROP SCHEMA IF EXISTS wallet CASCADE; DROP SCHEMA IF EXISTS analytics CASCADE; DROP SCHEMA IF EXISTS webhooks CASCADE;' 2>&1 | grep -v NOTICE || true
bash scripts/services.sh migrate test
step "test stack"; bash scripts/services.sh start test
trap 'bash scripts/services.sh stop test >/dev/null 2>&1 || true' EXIT

step "jest"
report="${JEST_REPORT:-${FLASHDROP_DATA_DIR:-$ROOT/.data}/jest-report-${TEST_SLOT:-0}.json}"
# Every status the e2e tests see from the public origin (libs/testing api()); the last e2e test
# checks each against the OpenAPI document (apps/api/test/openapi-coverage.e2e-spec.ts).
export API_STATUS_LOG="${FLASHDROP_DATA_DIR:-$ROOT/.data}/api-statuses-${TEST_SLOT:-0}.jsonl"
: >"$API_STATUS_LOG"
set +e
npx jest --runInBand --json --outputFile="$report" ${TEST_FILTER:+--testPathPattern "$TEST_FILTER"}
rc=$?
set -e
node -e '
  const r = require(process.argv[1]);
  console.log(`\njest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$report"
if [ "$rc" -eq 0 ]; then
  step "audit of every invariant over what the tests left behind"
  node dist/scripts/cli.js audit || rc=1
fi
step "done"
exit "$rc"
