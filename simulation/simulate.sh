#!/usr/bin/env bash
# `npm run simulate -- [flags]`: the seeded simulation of a drop's life (docs/simulation.md).
# Starts the shared servers if they are down (infra/up.sh), then runs simulation/main.ts on the
# test profile of TEST_SLOT (a Redis server of its own on a slot port, a database of its own on
# the stack's PostgreSQL). --help and bad flags answer at once, before anything starts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export FLASHDROP_DATA_DIR="${FLASHDROP_DATA_DIR:-$ROOT/.data}"
RUNNER=(node -r ts-node/register/transpile-only -r tsconfig-paths/register simulation/main.ts)
FLASHDROP_CHECK_FLAGS=1 "${RUNNER[@]}" "$@"
for arg in "$@"; do case "$arg" in -h | --help) exit 0 ;; esac; done
bash scripts/ensure-deps.sh >/dev/null
bash infra/up.sh >/dev/null
exec "${RUNNER[@]}" "$@"
