#!/usr/bin/env bash
# Stop Kafka, PostgreSQL and Redis (data is kept under .data/).
# Usage: infra/down.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
"$HERE/kafka.sh" stop || rc=1
"$HERE/postgres.sh" stop || rc=1
"$HERE/redis.sh" stop || rc=1
exit "$rc"
