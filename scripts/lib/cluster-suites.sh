# shellcheck shell=bash
# The suites that run again with the test stack on the slot's own Redis Cluster
# (TEST_REDIS_CLUSTER=1) in CI (.ci/run) and in npm run test:soak: the grab and reservation
# routes, the payments, the event pipeline through the stack's relay, Kafka and analytics, and
# the Redis scripts and stock buckets on a cluster. One list, so CI and the soak cannot drift.
# shellcheck disable=SC2034 # read by the scripts that source this file
CLUSTER_SUITES='libs/testing/src/redis-cluster|libs/inventory/src/(inventory|buckets)\.int|apps/api/test/(purchase|reservations)\.e2e|apps/api/test/payments/|apps/analytics/test/(payment-events|stats-routes)\.e2e|apps/analytics/src/stats/stats-store'
