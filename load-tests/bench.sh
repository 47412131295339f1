#!/usr/bin/env bash
# `npm run bench`: starts what the benchmark needs (the shared servers, the bench stack on its
# own ports with its own Redis server, Kafka broker and database: scripts/profiles/bench.env), runs every
# scenario and peer once (load-tests/runner/bench.ts), prints one table and writes it to
# load-tests/RESULTS.md, then stops what it started. Bounded: the runner is killed after
# BENCH_TIMEOUT seconds (default 900). Arguments go to the runner (--full, --scale=F, --only=...,
# --help). The load generators (wrk, vegeta) are installed on first use (load-tests/generators).
# Env: BENCH_SKIP_BUILD=1 uses the dist/ already built; BENCH_PROFILE=1 takes a CPU profile of
#      the floor during its rush and of the API, worker and analytics during the phone rush
#      (load-tests/profile/<name>-grab.txt, .cpuprofile beside it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export FLASHDROP_DATA_DIR="${FLASHDROP_DATA_DIR:-$ROOT/.data}"
RUNNER=(node -r ts-node/register/transpile-only -r tsconfig-paths/register load-tests/runner/bench.ts)
# --help and bad flags answer at once, before any server starts.
for arg in "$@"; do case "$arg" in -h | --help) exec "${RUNNER[@]}" --help ;; esac; done
BENCH_CHECK_FLAGS=1 "${RUNNER[@]}" "$@"
t0=$(date +%s)
step() { printf '\n== %s (%ss, load %s)\n' "$1" "$(($(date +%s) - t0))" "$(cut -d' ' -f1 /proc/loadavg)"; }

# One bench at a time on a machine: they share the bench ports, Redis and Kafka.
exec 9>/tmp/flashdrop-bench.lock
if ! flock -n 9; then
  echo "another npm run bench holds /tmp/flashdrop-bench.lock: waiting for it" >&2
  flock 9
fi
step "dependencies"; bash scripts/ensure-deps.sh
step "load generators"; bash load-tests/generators/install.sh
# 9>&-: the shared servers outlive the bench, and a server that inherited the lock's descriptor
# would hold the lock for good (every later bench waited on it).
step "servers"; bash infra/up.sh >/dev/null 9>&-
set -a
# shellcheck disable=SC1090
source <(node scripts/profile-env.js bench)
set +a
redis_port="$(sed -E 's#^redis://[^:]+:([0-9]+).*#\1#' <<<"$REDIS_URL")"
step "bench Redis on port $redis_port (AOF appendfsync always)"
REDIS_PORT="$redis_port" bash infra/redis.sh start
kafka_port="${KAFKA_BROKERS##*:}"
kafka_controller_port=$((kafka_port - 1))
bench_kafka() { KAFKA_PORT="$kafka_port" KAFKA_CONTROLLER_PORT="$kafka_controller_port" bash infra/kafka.sh "$@"; }
# Whatever happens from here on, the bench's own servers and stack stop with the run.
cleanup() {
  bash scripts/services.sh stop bench >/dev/null 2>&1 || true
  REDIS_PORT="$redis_port" bash infra/redis.sh stop >/dev/null 2>&1 || true
  bench_kafka stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
step "bench Kafka on port $kafka_port, fresh (no other run's topics)"
bench_kafka stop >/dev/null 2>&1 || true
rm -rf "$FLASHDROP_DATA_DIR/kafka/data/$kafka_port"
bench_kafka start
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then step "build"; npm run --silent build; fi

step "fresh bench data"
bash scripts/services.sh stop bench
# The bench Redis is the benchmark's own server: db 0 (the stack) and db 1 (the floor peer).
redis-cli -p "$redis_port" -n 0 FLUSHDB >/dev/null
redis-cli -p "$redis_port" -n 1 FLUSHDB >/dev/null
if psql "$DATABASE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  psql "$DATABASE_URL" -q -c 'DROP SCHEMA IF EXISTS sales CASCADE; DROP SCHEMA IF EXISTS wallet CASCADE; DROP SCHEMA IF EXISTS analytics CASCADE; DROP SCHEMA IF EXISTS bench_naive CASCADE;' 2>&1 | grep -v NOTICE || true
fi
bash scripts/services.sh migrate bench
step "bench stack"
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
  # Every service can be profiled on SIGWINCH; the runner signals the API around the rush.
  rm -f /tmp/flashdrop-*.cpuprofile
  NODE_OPTIONS="-r $ROOT/load-tests/profile/cpu-profile-preload.js" bash scripts/services.sh start bench
else
  bash scripts/services.sh start bench
fi

# Where services.sh writes the bench stack's pids, and the bench Kafka's (CPU per request).
export BENCH_RUN_DIR="$FLASHDROP_DATA_DIR/run/bench"
export BENCH_KAFKA_PID_FILE="$FLASHDROP_DATA_DIR/kafka/run/$kafka_port.pid"
step "runner"
timeout --kill-after=10 "${BENCH_TIMEOUT:-900}" "${RUNNER[@]}" "$@"
step "done"
