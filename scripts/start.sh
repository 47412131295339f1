#!/usr/bin/env bash
# The main job (README's first command): install what is missing, start Redis, PostgreSQL and
# Kafka, build, migrate, start every service, run the demo drop, and print where to look with an
# operator's token.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/cli.sh
source scripts/lib/cli.sh
CLI_NAME="npm start"
usage_text="usage: npm start [-- --instances=N --workers=N --analytics=N] [-- --no-demo] [-- demo flags]

Installs what is missing (node modules; Redis and PostgreSQL from Debian, Kafka from Maven
Central), starts the three servers (data in .data/), builds, migrates, starts the four
services of the dev stack, runs the demo drop, and prints where to look, with a token for the
operators' dashboard. Safe to run again: what runs already is reused.

flags:
  --instances=N  API instances behind the one public port (scripts/instances.js; default 1)
  --workers=N    worker instances (their singletons stay single under their leases)
  --analytics=N  analytics instances (they share the Kafka partitions of one consumer group)
  --no-demo      start everything, but run no demo drop
  demo flags     passed to the demo (npm run demo -- --help lists them: --full, --units=N, ...)
  -h, --help     this help

npm stop stops it all; your data stays in .data/."
if cli_help_requested "$@"; then printf '%s\n' "$usage_text"; exit 0; fi
demo=1
demo_flags=()
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    --instances=*) export API_INSTANCES="${arg#*=}" ;;
    --workers=*) export WORKER_INSTANCES="${arg#*=}" ;;
    --analytics=*) export ANALYTICS_INSTANCES="${arg#*=}" ;;
    *) demo_flags+=("$arg") ;;
  esac
done
[ "${SKIP_DEMO:-0}" = 1 ] && demo=0
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }

step "dependencies"; bash scripts/ensure-deps.sh
# The demo's flags are checked now, before anything starts: a typo must not cost a whole run.
if [ "${#demo_flags[@]}" -gt 0 ]; then
  [ "$demo" = 1 ] || cli_refuse "demo flags with --no-demo: ${demo_flags[*]}"
  FLASHDROP_CHECK_FLAGS=1 bash scripts/command.sh demo "${demo_flags[@]}" || exit 2
fi
step "servers"; bash infra/up.sh
step "build"; npm run --silent build
step "migrations and topics"; bash scripts/services.sh migrate dev
step "services"; bash scripts/services.sh start dev
step "readiness"
set -a
# shellcheck disable=SC1090
source <(node scripts/profile-env.js dev)
set +a
for _ in $(seq 1 60); do
  curl -fsS -m 3 "http://127.0.0.1:$API_PORT/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -sS -m 3 "http://127.0.0.1:$API_PORT/health/ready"; echo
if [ "$demo" = 1 ]; then
  step "demo drop"; node dist/scripts/cli.js demo "${demo_flags[@]}"
fi
step "ready"
operator_token="$(node dist/scripts/cli.js token --role operator --sub ops-dev)"
cat <<MSG
Flashdrop is running ($(($(date +%s) - t0)) s):
  API           http://127.0.0.1:$API_PORT           (OpenAPI: http://127.0.0.1:$API_PORT/docs)
  health        http://127.0.0.1:$API_PORT/health/ready
  metrics       http://127.0.0.1:$API_PORT/metrics
  servers       bash infra/status.sh          services: bash scripts/services.sh status
  logs          .data/run/dev/*.log (JSON, one line per event)
  tokens        npm run token -- --role fan|brand|operator --sub ID
  stop          npm stop

An operator's token (a day; sub ops-dev):
  $operator_token

The operators' dashboard, signed in with it:
  http://127.0.0.1:$API_PORT/ops?access_token=$operator_token
MSG
