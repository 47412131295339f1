#!/usr/bin/env bash
# What runs where. Exit 0 if all three are up, 1 otherwise.
# Usage: infra/status.sh
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
printf '%-9s %-5s %-8s %-6s %s\n' SERVICE STATE PID PORT DATA
for svc in redis postgres kafka; do
  line="$("$HERE/$svc.sh" status 2>/dev/null)" || rc=1
  state="$(awk '{print $2}' <<<"$line")"
  pid="$(grep -o 'pid=[0-9]*' <<<"$line" | cut -d= -f2)"
  port="$(grep -o ' port=[0-9]*' <<<"$line" | cut -d= -f2)"
  data="$(grep -o 'data=[^ ]*' <<<"$line" | cut -d= -f2-)"
  printf '%-9s %-5s %-8s %-6s %s\n' "$svc" "${state:-?}" "${pid:--}" "${port:--}" "${data:--}"
done
# shellcheck source=env.sh
source "$HERE/env.sh"
echo
echo "REDIS_URL=$REDIS_URL"
echo "DATABASE_URL=$DATABASE_URL"
echo "TEST_DATABASE_URL=$TEST_DATABASE_URL"
echo "KAFKA_BROKERS=$KAFKA_BROKERS"
exit "$rc"
