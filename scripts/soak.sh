#!/usr/bin/env bash
# npm run test:soak: the long loops that npm test runs only a few of. The race tests repeat
# SOAK_ROUNDS times (20 unless set), then the grab, reservation, payment and event-pipeline
# suites run again with the test stack on the slot's own Redis Cluster (npm run test:cluster).
# Arguments are passed to neither; TEST_FILTER narrows the first part only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/cli.sh
source "$ROOT/scripts/lib/cli.sh"
CLI_NAME="npm run test:soak"
usage_text="usage: npm run test:soak

The race tests SOAK_ROUNDS times (20 unless set), then the grab, reservation, payment and
event-pipeline suites on the slot's own Redis Cluster. TEST_SLOT as for npm test."
cli_no_args "$@"
SOAK_ROUNDS="${SOAK_ROUNDS:-20}" SKIP_STATIC=1 bash scripts/test.sh
bash scripts/cluster-stage.sh
