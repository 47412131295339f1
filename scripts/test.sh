#!/usr/bin/env bash
# `npm test`: static checks (Prettier, ESLint, TypeScript strict, k6 scripts), a build, then every
# jest tier against the real Redis, PostgreSQL and Kafka, with the services of the `test` profile
# running beside any dev stack, and the audit over what the tests left behind.
#
# A whole run (no TEST_FILTER) runs its jest work as parts side by side, each on a test slot of
# its own (scripts/profile-env.js: its own services, ports, database, Redis db and topics), since
# most of the suite's wall time is waiting (process starts, kill -9s, lease expiries, polls):
#   jest 1/2 and jest 2/2  the files split by their last wall time (scripts/jest-sequencer.js,
#                          scripts/jest-weights.json), on one Redis, slots S and S+1
#   cluster                the grab, reservation, payment and event-pipeline suites again on the
#                          slot's own Redis Cluster (scripts/lib/cluster-suites.sh), slot S+2
# S is TEST_SLOT (CI: 0, so slots 0, 1, 2; past 9 they go down: slot 9 uses 9, 8, 7);
# TEST_PART_SLOTS="a b c" names other ones. Each part audits its own slot's database after its tests. Then the OpenAPI
# coverage check runs once on slot S over the statuses every part's e2e tests saw (their
# API_STATUS_LOGs merged). Each part writes its log to $FLASHDROP_DATA_DIR/npm-test-<slot>.log,
# printed whole (each line prefixed with the part) when the part fails. Ends with one line adding
# up every jest run: "npm test, all parts: N passed, N failed, N skipped"; exits non-zero when
# any part (its jest, its audit) or the coverage check failed.
# A focused run (TEST_FILTER) is one part on slot S, in band, its output live, as before.
#
# Env: TEST_FILTER=<regex> runs only matching test files; SKIP_STATIC=1 skips the static checks;
#      TEST_SLOT=N the first slot (0..9); TEST_PART_SLOTS="a b c" the slots of the parts;
#      TEST_SHARDS=N jest shards (2 for a whole run, 1 with TEST_FILTER);
#      SKIP_CLUSTER_STAGE=1 leaves out the cluster part; TEST_CLUSTER_STAGE=1 runs it even with
#      TEST_FILTER (the filter then narrows the shards only);
#      TEST_REDIS_CLUSTER=1 (npm run test:cluster) runs everything on the slot's own Redis Cluster
#      (one part, no cluster stage: it is all on a cluster).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/cli.sh
source scripts/lib/cli.sh
# shellcheck source=lib/cluster-suites.sh
source scripts/lib/cluster-suites.sh
CLI_NAME="npm test"
usage_text="usage: npm test

Static checks (Prettier, ESLint, dependency rules, strict types, the k6 scripts), a build, fresh
test data, then every jest tier against the real Redis, PostgreSQL and Kafka and the audit over
what the tests left behind. A whole run splits its jest work into parts side by side, each on a
test slot of its own (own ports, database, Redis db and topics): two shards on one Redis (slots
TEST_SLOT and TEST_SLOT+1) and the cluster stage (TEST_SLOT+2; 9 uses 9, 8, 7: the grab, reservation,
payment and event-pipeline suites on a Redis Cluster); then the OpenAPI coverage check over all
of them. Ends with one line: npm test, all parts: N passed, N failed, N skipped.

environment:
  TEST_FILTER=REGEX   only the test files whose path matches (one part, in band, no cluster stage)
  SKIP_STATIC=1       skip the static checks
  TEST_SLOT=N         the first test slot (0..9; scripts/profile-env.js)
  TEST_PART_SLOTS='A B C'  the slots of the parts (default TEST_SLOT, +1, +2; 8 and 9 go down)
  TEST_SHARDS=N       jest shards side by side (2 for a whole run, 1 with TEST_FILTER)
  SKIP_CLUSTER_STAGE=1  leave out the cluster stage; TEST_CLUSTER_STAGE=1 runs it with a filter
  SOAK_ROUNDS=N       how often the race tests repeat (npm run test:soak: 20)
  SKIP_BROWSER_TESTS=1  by hand, on a machine without Chromium: skip the browser tests
                      instead of failing them (ignored when CI is set)"
cli_no_args "$@"
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }
DATA="${FLASHDROP_DATA_DIR:-$ROOT/.data}"
mkdir -p "$DATA"

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

# ---- which parts, on which slots
first="${TEST_SLOT:-0}"
if [ -n "${TEST_FILTER:-}" ] || [ "${TEST_REDIS_CLUSTER:-0}" = 1 ]; then
  shards="${TEST_SHARDS:-1}"
  cluster_stage="${TEST_CLUSTER_STAGE:-0}"
else
  shards="${TEST_SHARDS:-2}"
  cluster_stage=1
fi
[ "${SKIP_CLUSTER_STAGE:-0}" = 1 ] && cluster_stage=0
[ "${TEST_REDIS_CLUSTER:-0}" = 1 ] && cluster_stage=0
[[ "$shards" =~ ^[1-9]$ ]] || cli_refuse "TEST_SHARDS must be 1..9 (got '$shards')"
needed=$((shards + cluster_stage))
if [ -n "${TEST_PART_SLOTS:-}" ]; then
  read -r -a slots <<<"$TEST_PART_SLOTS"
else
  # Upwards from TEST_SLOT, or downwards when that would pass 9: slot 9's stack ports (3390-3394)
  # are ports slot 0's tests give their own servers, so 9 never runs beside 0.
  slots=()
  dir=1
  [ $((first + needed - 1)) -le 9 ] || dir=-1
  for ((i = 0; i < needed; i++)); do slots+=($((first + dir * i))); done
fi
for s in "${slots[@]}"; do [[ "$s" =~ ^[0-9]$ ]] || cli_refuse "TEST_PART_SLOTS: a slot is 0..9 (got '$s')"; done
[ "${#slots[@]}" -ge "$needed" ] || cli_refuse "TEST_PART_SLOTS names ${#slots[@]} slots; this run needs $needed"
[ "$(printf '%s\n' "${slots[@]:0:$needed}" | sort -u | wc -l)" -eq "$needed" ] || cli_refuse "TEST_PART_SLOTS names a slot twice"

# slot_env SLOT: the test profile of SLOT into this (sub)shell's environment.
slot_env() {
  export TEST_SLOT="$1"
  set -a
  # shellcheck disable=SC1090
  source <(node scripts/profile-env.js test)
  set +a
}
report_of() { echo "${JEST_REPORT:-$DATA/jest-report-$1.json}"; }
statuses_of() { echo "$DATA/api-statuses-$1.jsonl"; }

# stack_cpu SLOT: CPU seconds the slot's test stack used so far (its services' pids, /proc).
stack_cpu() {
  local f pid total=0 ticks
  ticks="$(getconf CLK_TCK)"
  for f in "$DATA/run/test-$1"/*.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo $((total / ticks))
}

# part SLOT [JEST ARGS...]: fresh data on the slot, its test stack, jest, then the audit of
# what the tests left behind. Run in a subshell: the slot's env stays in it. Leaves the stack
# running when KEEP_STACK=1 (the coverage check asks slot S's API for its document).
part() {
  local slot="$1" rc started
  shift
  slot_env "$slot"
  started=$(date +%s)
  step "fresh test data (slot $slot)"
  bash scripts/services.sh stop test
  if [ -n "$REDIS_CLUSTER_NODES" ]; then
    # The slot's own Redis Cluster (started here, emptied like the db below).
    bash infra/redis-cluster.sh start
    bash infra/redis-cluster.sh flush
  else
    redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null
  fi
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c 'DROP SCHEMA IF EXISTS sales CASCADE; DROP SCHEMA IF EXISTS wallet CASCADE; DROP SCHEMA IF EXISTS analytics CASCADE; DROP SCHEMA IF EXISTS webhooks CASCADE;' 2>&1 | grep -v NOTICE || true
  bash scripts/services.sh migrate test
  step "test stack (slot $slot)"; bash scripts/services.sh start test
  [ "${KEEP_STACK:-0}" = 1 ] || trap 'bash scripts/services.sh stop test >/dev/null 2>&1 || true' EXIT

  step "jest (slot $slot${*:+: $*})"
  # Every status the e2e tests see from the public origin (libs/testing api()); the coverage
  # check reads them (apps/api/test/openapi-coverage.e2e-spec.ts).
  export API_STATUS_LOG
  API_STATUS_LOG="$(statuses_of "$slot")"
  : >"$API_STATUS_LOG"
  set +e
  npx jest --runInBand --json --outputFile="$(report_of "$slot")" ${TEST_FILTER:+--testPathPattern "$TEST_FILTER"} "$@"
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    step "audit of every invariant over what the tests left behind (slot $slot)"
    node dist/scripts/cli.js audit || rc=1
  fi
  # Where the part's wall time went: CPU of jest and what it ran (its dedicated servers and
  # processes), and of the slot's stack; the rest of its wall time is waiting.
  times >"$DATA/npm-test-$slot.times"
  node -e '
    const r = require(process.argv[1]);
    const [slot, wall, cpu, stack, rc] = process.argv.slice(2);
    console.log(`\nslot ${slot}: jest ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped; ` +
      `${rc === "0" ? "audit clean" : "FAILED"}; ${wall} s wall, CPU s: jest and its children ${cpu}, the stack ${stack}`);
  ' "$(report_of "$slot")" "$slot" "$(($(date +%s) - started))" "$(sed -n 2p "$DATA/npm-test-$slot.times")" "$(stack_cpu "$slot")" "$rc" ||
    printf '\nslot %s: no jest report (%s)\n' "$slot" "$(report_of "$slot")"
  return "$rc"
}

# summary REPORT...: the one line adding up every jest run of this npm test.
summary() {
  node -e '
    const fs = require("node:fs");
    const reports = process.argv.slice(1).filter((f) => fs.existsSync(f)).map((f) => require(f));
    const sum = (k) => reports.reduce((n, r) => n + (r[k] ?? 0), 0);
    console.log(`\nnpm test, all parts: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests")} skipped`);
  ' "$@"
}

if [ "$needed" -eq 1 ]; then
  # One part (a focused run, npm run test:cluster): in this shell, output live, as before.
  set +e
  (
    set -e
    part "${slots[0]}"
  )
  rc=$?
  set -e
  summary "$(report_of "${slots[0]}")"
  step "done"
  exit "$rc"
fi

# ---- parts side by side
[ -z "${JEST_REPORT:-}" ] || cli_refuse "JEST_REPORT names one report; a run of parts writes one per slot"
names=() pids=() logs=() reports=()
start_part() { # NAME SLOT [ENV=VALUE...] -- [JEST ARGS...]
  local name="$1" slot="$2" log="$DATA/npm-test-$2.log"
  shift 2
  local envs=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  rm -f "$(report_of "$slot")"
  (
    for e in "${envs[@]}"; do export "${e?}"; done
    part "$slot" "$@"
  ) >"$log" 2>&1 &
  names+=("$name") pids+=($!) logs+=("$log") reports+=("$(report_of "$slot")")
  printf '   %s on slot %s (pid %s): %s\n' "$name" "$slot" "$!" "$log"
}
# tree PID: PID and every process below it (a part's subshell, npx, jest, what jest started).
tree() {
  local child
  echo "$1"
  for child in $(pgrep -P "$1" || true); do tree "$child"; done
}
# On any early exit (a signal, an error here): no part's jest may outlive this script, and no
# slot's stack either.
cleanup() {
  local all=()
  for pid in "${pids[@]}"; do mapfile -t -O "${#all[@]}" all < <(tree "$pid"); done
  [ "${#all[@]}" -eq 0 ] || kill "${all[@]}" 2>/dev/null || true
  for slot in "${slots[@]:0:$needed}"; do
    TEST_SLOT="$slot" bash scripts/services.sh stop test >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

step "jest parts side by side"
for ((i = 1; i <= shards; i++)); do
  keep=0
  [ "$i" -eq 1 ] && keep=1
  # Sharded even when alone beside the cluster stage: no shard runs the coverage check. A shard
  # a narrow TEST_FILTER leaves empty has nothing to fail; the summary still adds up the rest.
  start_part "jest $i/$shards" "${slots[$((i - 1))]}" KEEP_STACK=$keep -- --shard="$i/$shards" --passWithNoTests
done
if [ "$cluster_stage" = 1 ]; then
  start_part "cluster" "${slots[$shards]}" TEST_REDIS_CLUSTER=1 TEST_FILTER="$CLUSTER_SUITES" --
fi

rc=0
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then
    printf '\n== %s: passed (%ss): %s\n' "${names[$i]}" "$(($(date +%s) - t0))" "$(tail -n 1 "${logs[$i]}")"
  else
    rc=1
    printf '\n== %s: FAILED (%ss); its log (%s):\n' "${names[$i]}" "$(($(date +%s) - t0))" "${logs[$i]}"
    # awk, not sed: a part's name has a slash in it (jest 2/2).
    awk -v prefix="[${names[$i]}] " '{ print prefix $0 }' "${logs[$i]}"
  fi
done
pids=()

coverage_file="$ROOT/apps/api/test/openapi-coverage.e2e-spec.ts"
if [ -n "${TEST_FILTER:-}" ] && ! node -e 'process.exit(new RegExp(process.argv[1], "i").test(process.argv[2]) ? 0 : 1)' "$TEST_FILTER" "$coverage_file"; then
  summary "${reports[@]}"
  step "done"
  exit "$rc"
fi
step "OpenAPI coverage of every part's e2e statuses (slot ${slots[0]})"
merged="$DATA/api-statuses-${slots[0]}-all.jsonl"
for ((i = 0; i < needed; i++)); do cat "$(statuses_of "${slots[$i]}")" 2>/dev/null || true; done >"$merged"
coverage_report="$DATA/jest-report-${slots[0]}-coverage.json"
rm -f "$coverage_report"
(
  slot_env "${slots[0]}"
  export API_STATUS_LOG="$merged"
  npx jest --runInBand --json --outputFile="$coverage_report" --testPathPattern 'apps/api/test/openapi-coverage\.e2e-spec\.ts$'
) || rc=1

summary "${reports[@]}" "$coverage_report"
step "done"
exit "$rc"
