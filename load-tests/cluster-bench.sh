#!/usr/bin/env bash
# `npm run bench:cluster`: the stack on the slot's local Redis Cluster (infra/redis-cluster.sh),
# measured in four layouts: 3 primaries + 1 API, 1 primary + 1 API (every slot moved onto one
# primary with redis-cli --cluster rebalance), 3 primaries + 2 API instances (scripts/instances.js),
# and 3 primaries + 1 API with REDIS_WAIT_REPLICAS=1 (each grab answered after WAIT: its cost).
# Each layout: a fresh Redis, the test stack of the slot, one bounded rush of distinct fans over a
# few drops at once (load-tests/runner/cluster-bench.ts), the CPU every process spent per grab.
# Loopback only; the rushes are bounded (--seconds each). Prints one row per layout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=../scripts/lib/cli.sh
source scripts/lib/cli.sh
CLI_NAME="npm run bench:cluster"
RUNNER=(node -r ts-node/register/transpile-only -r tsconfig-paths/register load-tests/runner/cluster-bench.ts)
usage_text="usage: TEST_SLOT=N npm run bench:cluster -- [--drops=N] [--quantity=N] [--fans=N] [--connections=N] [--seconds=S]

Grabs/s and CPU per grab per process of the slot's test stack on the slot's own Redis Cluster:
3 primaries vs 1 primary (one API), 1 vs 2 API instances (3 primaries), and WAIT on a replica
vs none (3 primaries, one API). The flags go to
each layout's rush (load-tests/runner/cluster-bench.ts --help). Rows are appended to
\$FLASHDROP_DATA_DIR/cluster-bench-<slot>.jsonl and printed.

environment:
  TEST_SLOT=N          required: the slot whose test stack and cluster are used (never 0's)
  FLASHDROP_DATA_DIR   the shared servers' data (default <repo>/.data)
  BENCH_SKIP_BUILD=1   use the dist/ already built
  LAYOUTS=a,b,...      a subset of 3p1a,1p1a,3p2a,3p1aw (default all four)"
if cli_help_requested "$@"; then printf '%s\n' "$usage_text"; exit 0; fi
for arg in "$@"; do
  case "$arg" in
    --drops=* | --quantity=* | --fans=* | --connections=* | --seconds=*) ;;
    *) cli_refuse "unknown argument: $arg" ;;
  esac
done
[ -n "${TEST_SLOT:-}" ] || cli_refuse "set TEST_SLOT (the slot's test stack and cluster are used)"
export FLASHDROP_DATA_DIR="${FLASHDROP_DATA_DIR:-$ROOT/.data}"
export TEST_REDIS_CLUSTER=1
LAYOUTS="${LAYOUTS:-3p1a,1p1a,3p2a,3p1aw}"
for l in ${LAYOUTS//,/ }; do
  case "$l" in 3p1a | 1p1a | 3p2a | 3p1aw) ;; *) cli_refuse "unknown layout $l (3p1a, 1p1a, 3p2a, 3p1aw)" ;; esac
done
t0=$(date +%s)
step() { printf '\n== %s (%ss, load %s)\n' "$1" "$(($(date +%s) - t0))" "$(cut -d' ' -f1 /proc/loadavg)"; }

step "servers"; bash infra/up.sh >/dev/null
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then step "build"; npm run --silent build; fi
set -a
# shellcheck disable=SC1090
source <(node scripts/profile-env.js test)
set +a
export RUN_DIR="$FLASHDROP_DATA_DIR/run/test-$TEST_SLOT"
OUT="$FLASHDROP_DATA_DIR/cluster-bench-$TEST_SLOT.jsonl"
FIRST="${REDIS_CLUSTER_NODES%%,*}"
FIRST_PORT="${FIRST##*:}"

# primaries_with_slots: the node ids of the primaries that serve slots.
primaries_with_slots() {
  redis-cli -p "$FIRST_PORT" cluster nodes | awk '$3 ~ /master/ && NF > 8 { print $1 }'
}
all_primaries() { redis-cli -p "$FIRST_PORT" cluster nodes | awk '$3 ~ /master/ { print $1 }'; }
# A primary that gives its last slot away turns into a replica of the node that took it
# (cluster-allow-replica-migration, on by default): off on every node while the bench runs, so
# the emptied primaries stay primaries and take their slots back afterwards.
replica_migration() {
  local node
  for node in ${REDIS_CLUSTER_NODES//,/ }; do
    redis-cli -p "${node##*:}" config set cluster-allow-replica-migration "$1" >/dev/null
  done
}
to_three_primaries() {
  if [ "$(primaries_with_slots | wc -l)" -lt "$(all_primaries | wc -l)" ]; then
    redis-cli --cluster rebalance "$FIRST" --cluster-use-empty-masters | grep -E 'ERR|\*\*\*' || true
  fi
  replica_migration yes
}
to_one_primary() {
  local keep weights=()
  replica_migration no
  keep="$(primaries_with_slots | head -1)"
  for id in $(all_primaries); do [ "$id" = "$keep" ] || weights+=("$id=0"); done
  redis-cli --cluster rebalance "$FIRST" --cluster-weight "${weights[@]}" | grep -E 'ERR|\*\*\*' || true
  [ "$(primaries_with_slots | wc -l)" -eq 1 ] || { echo "cluster-bench: could not move every slot onto one primary" >&2; exit 1; }
}
cleanup() {
  bash scripts/services.sh stop test >/dev/null 2>&1 || true
  to_three_primaries >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "the slot's Redis Cluster"; bash infra/redis-cluster.sh start
bash scripts/services.sh stop test
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c 'DROP SCHEMA IF EXISTS sales CASCADE; DROP SCHEMA IF EXISTS wallet CASCADE; DROP SCHEMA IF EXISTS analytics CASCADE; DROP SCHEMA IF EXISTS webhooks CASCADE;' 2>&1 | grep -v NOTICE || true
bash infra/redis-cluster.sh flush
bash scripts/services.sh migrate test

for layout in ${LAYOUTS//,/ }; do
  case "$layout" in
    3p1a) label="3 primaries, 1 API"; apis=1; wait=0 ;;
    1p1a) label="1 primary, 1 API"; apis=1; wait=0 ;;
    3p2a) label="3 primaries, 2 APIs"; apis=2; wait=0 ;;
    3p1aw) label="3 primaries, 1 API, WAIT 1"; apis=1; wait=1 ;;
  esac
  step "layout: $label"
  bash scripts/services.sh stop test >/dev/null
  bash infra/redis-cluster.sh flush
  if [ "$layout" = 1p1a ]; then to_one_primary; else to_three_primaries; fi
  echo "primaries serving slots: $(primaries_with_slots | wc -l)"
  API_INSTANCES="$apis" REDIS_WAIT_REPLICAS="$wait" bash scripts/services.sh start test
  "${RUNNER[@]}" --label="$label" --out="$OUT" "$@"
done
bash scripts/services.sh stop test
step "done (rows in $OUT)"
