#!/usr/bin/env bash
# The main job (README's first command): install what is missing, start Redis, PostgreSQL and
# Kafka, build, migrate, start every service, run the demo drop, and print where to look.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
t0=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(($(date +%s) - t0))"; }

step "dependencies"; bash scripts/ensure-deps.sh
step "servers"; bash infra/up.sh
step "build"; npm run --silent build
step "migrations and topics"; bash scripts/services.sh migrate dev
step "services"; bash scripts/services.sh start dev
step "readiness"
for _ in $(seq 1 60); do
  curl -fsS -m 3 http://127.0.0.1:3000/health/ready >/dev/null 2>&1 && break
  sleep 1
done
curl -sS -m 3 http://127.0.0.1:3000/health/ready; echo
if [ -f dist/scripts/demo.js ] && [ "${SKIP_DEMO:-0}" != 1 ]; then
  step "demo drop"; node dist/scripts/demo.js "$@"
fi
step "ready"
cat <<MSG
Flashdrop is running ($(($(date +%s) - t0)) s):
  API           http://127.0.0.1:3000           (OpenAPI: http://127.0.0.1:3000/docs)
  dashboard     http://127.0.0.1:3000/ops
  health        http://127.0.0.1:3000/health/ready
  metrics       http://127.0.0.1:3000/metrics
  servers       bash infra/status.sh          services: bash scripts/services.sh status
  logs          .data/run/dev/*.log
  stop          npm stop
MSG
