#!/usr/bin/env bash
# Stops the services of both profiles, then Redis, PostgreSQL and Kafka.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/services.sh" stop test || true
bash "$ROOT/scripts/services.sh" stop dev || true
bash "$ROOT/infra/down.sh"
