#!/usr/bin/env bash
# npm run test:soak: the long loops that npm test runs only a few of: npm test (its parts side by
# side, scripts/test.sh: the jest shards and the cluster stage, each on a slot of its own) with
# the race tests repeated SOAK_ROUNDS times (20 unless set), the cluster stage's too.
# Takes no arguments; TEST_FILTER narrows it to one part (no cluster stage), as for npm test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/cli.sh
source "$ROOT/scripts/lib/cli.sh"
CLI_NAME="npm run test:soak"
usage_text="usage: npm run test:soak

npm test without its static checks, the race tests SOAK_ROUNDS times (20 unless set), the
grab, reservation, payment and event-pipeline suites on the slot's own Redis Cluster beside
them. TEST_SLOT, TEST_PART_SLOTS and TEST_FILTER as for npm test."
cli_no_args "$@"
SOAK_ROUNDS="${SOAK_ROUNDS:-20}" SKIP_STATIC=1 exec bash scripts/test.sh
