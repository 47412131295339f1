#!/usr/bin/env bash
# Stop Kafka, PostgreSQL and Redis (data is kept under .data/), and every local Redis Cluster
# the tests started under the same data directory (npm test's cluster stage leaves its slot's
# six nodes running for the next run, as it does the servers above).
# Usage: infra/down.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
"$HERE/kafka.sh" stop || rc=1
"$HERE/postgres.sh" stop || rc=1
"$HERE/redis.sh" stop || rc=1
DATA="${FLASHDROP_DATA_DIR:-$HERE/../.data}"
for dir in "$DATA"/redis-cluster-*; do
  # Only a cluster with a node that ran since (a pid file; a stale one is cleaned up by stop).
  compgen -G "$dir/*/redis.pid" >/dev/null || continue
  REDIS_CLUSTER_PORT="${dir##*-}" "$HERE/redis-cluster.sh" stop >/dev/null || rc=1
done
exit "$rc"
