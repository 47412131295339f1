#!/usr/bin/env bash
# npm run test:cluster-stage: the cluster stage alone, on TEST_SLOT: the grab, reservation,
# payment and event-pipeline suites (scripts/lib/cluster-suites.sh) with the test stack on the
# slot's own Redis Cluster (infra/redis-cluster.sh), then the audit of that slot. A whole
# npm test runs the same stage as one of its parts, beside its jest shards on a slot of its own
# (scripts/test.sh), so the one test command CI runs also proves the code and Lua scripts on a
# cluster. A jest run that cannot end (a test left a timer or socket running: session 7's
# ci-local hung here) fails instead, naming what is still active (scripts/jest-exit-watch.js).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=lib/cluster-suites.sh
source scripts/lib/cluster-suites.sh
printf '\n== cluster stage: %s on a Redis Cluster\n' "$CLUSTER_SUITES"
SKIP_STATIC=1 TEST_FILTER="$CLUSTER_SUITES" TEST_REDIS_CLUSTER=1 exec bash scripts/test.sh
