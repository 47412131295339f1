#!/usr/bin/env bash
# Stops the services of the dev and test stacks, then Redis, PostgreSQL and Kafka.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/cli.sh
source "$ROOT/scripts/lib/cli.sh"
CLI_NAME="npm stop"
usage_text="usage: npm stop

Stops the services of the dev stack and of the test stack (of TEST_SLOT), then Redis,
PostgreSQL and Kafka. Data stays in .data/; npm start brings it all back."
cli_no_args "$@"
bash "$ROOT/scripts/services.sh" stop test || true
bash "$ROOT/scripts/services.sh" stop dev || true
bash "$ROOT/infra/down.sh"
