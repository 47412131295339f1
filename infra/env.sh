# shellcheck shell=bash
# Connection settings for the servers started by infra/up.sh.
# Usage: source infra/env.sh   (honours REDIS_PORT, PG_PORT, KAFKA_PORT if set)
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-6379}}"
export DATABASE_URL="${DATABASE_URL:-postgres://flashdrop:flashdrop@127.0.0.1:${PG_PORT:-5433}/flashdrop}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://flashdrop:flashdrop@127.0.0.1:${PG_PORT:-5433}/flashdrop_test}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}"
