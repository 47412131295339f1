#!/usr/bin/env bash
# Start Redis, PostgreSQL and Kafka (installing/downloading what is missing), then show the table.
# Usage: infra/up.sh      Env: see infra/env.sh, REDIS_PORT, PG_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, FLASHDROP_DATA_DIR
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/redis.sh" start
"$HERE/postgres.sh" start
"$HERE/kafka.sh" start
echo
"$HERE/status.sh"
