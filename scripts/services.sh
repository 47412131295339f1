#!/usr/bin/env bash
# Starts, stops and lists Flashdrop's own services (built into dist/) for one profile.
# Usage: scripts/services.sh start|stop|status|migrate [dev|test|bench]   (env TEST_SLOT: see scripts/profile-env.js)
# Env:   API_INSTANCES, WALLET_INSTANCES, ANALYTICS_INSTANCES, WORKER_INSTANCES (1..64, default 1):
#        more than one runs that many instances of the service behind its one port
#        (scripts/instances.js, Node's cluster module); one runs the service alone.
# Logs and pids: $FLASHDROP_DATA_DIR/run/<profile>/ (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../infra/lib.sh
source "$ROOT/infra/lib.sh"
# shellcheck source=lib/cli.sh
source "$ROOT/scripts/lib/cli.sh"
LOG_TAG=services
CLI_NAME="scripts/services.sh"
usage_text="usage: bash scripts/services.sh start|stop|status|migrate [dev|test|bench]

Flashdrop's own services (wallet, analytics, api, worker, built into dist/) for one stack
profile (scripts/profiles/<profile>.env, shifted by TEST_SLOT for test: scripts/profile-env.js;
default dev). Logs and pids: \$FLASHDROP_DATA_DIR/run/<profile>/.

  start     starts what is not running, in order, waiting for each to answer
  stop      stops them, the worker first
  status    one line per service: pid, up or down, log
  migrate   creates the stack's database when missing, runs its migrations, creates its topics

env: API_INSTANCES, WALLET_INSTANCES, ANALYTICS_INSTANCES, WORKER_INSTANCES (1..64, default 1):
  more than one runs that many instances of the service behind its one port
  (scripts/instances.js, Node's cluster module); one runs the service alone."
if cli_help_requested "$@"; then printf '%s\n' "$usage_text"; exit 0; fi
[ "$#" -le 2 ] || cli_refuse "unknown argument: $3"
action="${1:-status}"
profile="${2:-dev}"
case "$action" in start | stop | status | migrate) ;; *) cli_refuse "unknown action: $action" ;; esac
[ -f "$ROOT/scripts/profiles/$profile.env" ] || cli_refuse "no profile scripts/profiles/$profile.env"
set -a
# shellcheck disable=SC1090
source <(node "$ROOT/scripts/profile-env.js" "$profile")
set +a
# Test stacks of different slots keep their logs and pids apart; the dev stack has one place.
RUN="$DATA/run/$profile"
[ "$profile" = test ] && RUN="$RUN-$TEST_SLOT"
mkdir -p "$RUN"

# Start order: the wallet and analytics first, so the API finds them; the worker last.
SERVICES=(wallet analytics api notifier worker)

health_url() {
  case "$1" in
    api) echo "http://127.0.0.1:$API_PORT/health/live" ;;
    analytics) echo "http://127.0.0.1:$ANALYTICS_HTTP_PORT/health/live" ;;
    worker) echo "http://127.0.0.1:$WORKER_HTTP_PORT/health/live" ;;
    notifier) echo "http://127.0.0.1:$NOTIFIER_HTTP_PORT/health/live" ;;
    wallet) echo "tcp:$WALLET_PORT" ;;
  esac
}

# instances SVC: how many instances of SVC to run (API_INSTANCES, ...), checked here once.
instances() {
  local var n
  var="$(tr '[:lower:]' '[:upper:]' <<<"$1")_INSTANCES"
  n="${!var:-1}"
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 64 ] || die "$var must be an integer 1..64 (got '$n')"
  echo "$n"
}

is_up() {
  local url
  url="$(health_url "$1")"
  if [[ "$url" == tcp:* ]]; then port_open "${url#tcp:}"; else curl -fsS -m 2 "$url" >/dev/null 2>&1; fi
}

start_one() {
  local svc="$1" pid
  local pidfile="$RUN/$svc.pid"
  pid="$(read_pid "$pidfile")"
  if pid_matches "$pid" "dist/apps/$svc/main.js" && is_up "$svc"; then
    log "$svc already running (pid $pid)"
    return
  fi
  [ -n "$pid" ] && pid_matches "$pid" "dist/apps/$svc/main.js" && stop_pid "$pid" "$svc" 10
  [ -f "$ROOT/dist/apps/$svc/main.js" ] || die "dist/apps/$svc/main.js missing: run npm run build"
  local count
  count="$(instances "$svc")"
  if [ "$count" -eq 1 ]; then
    nohup node --enable-source-maps "$ROOT/dist/apps/$svc/main.js" >>"$RUN/$svc.log" 2>&1 &
  else
    nohup node --enable-source-maps "$ROOT/scripts/instances.js" --count="$count" --name="$svc" \
      "$ROOT/dist/apps/$svc/main.js" >>"$RUN/$svc.log" 2>&1 &
  fi
  echo $! >"$pidfile"
  local i=0
  until is_up "$svc"; do
    if ! kill -0 "$(read_pid "$pidfile")" 2>/dev/null; then
      tail -20 "$RUN/$svc.log" >&2
      die "$svc exited during start; log: $RUN/$svc.log"
    fi
    [ "$i" -ge 300 ] && die "$svc did not answer within 30 s; log: $RUN/$svc.log"
    sleep 0.1
    i=$((i + 1))
  done
  local what="pid $(read_pid "$pidfile")"
  [ "$count" -gt 1 ] && what="$count instances under pid $(read_pid "$pidfile")"
  log "$svc up ($what, log $RUN/$svc.log)"
}

stop_one() {
  local svc="$1" pid
  local pidfile="$RUN/$svc.pid"
  pid="$(read_pid "$pidfile")"
  if pid_matches "$pid" "dist/apps/$svc/main.js"; then
    stop_pid "$pid" "$svc" 15
    log "$svc stopped"
  fi
  rm -f "$pidfile"
}

case "$action" in
  migrate)
    [ -f "$ROOT/dist/scripts/cli.js" ] || die "dist/scripts/cli.js missing: run npm run build"
    node "$ROOT/dist/scripts/cli.js" migrate
    ;;
  start) for s in "${SERVICES[@]}"; do start_one "$s"; done ;;
  stop) for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_one "${SERVICES[$i]}"; done ;;
  status)
    printf '%-10s %-8s %-7s %-9s %s\n' SERVICE PID STATE INSTANCES LOG
    for s in "${SERVICES[@]}"; do
      pid="$(read_pid "$RUN/$s.pid")"
      state=down
      n=0
      if pid_matches "$pid" "dist/apps/$s/main.js"; then
        is_up "$s" && state=up
        # Under scripts/instances.js the instances are the primary's children.
        if pid_matches "$pid" "scripts/instances.js"; then n="$(pgrep -c -P "$pid" || true)"; else n=1; fi
      fi
      printf '%-10s %-8s %-7s %-9s %s\n' "$s" "${pid:--}" "$state" "$n" "$RUN/$s.log"
    done
    ;;
  *) cli_refuse "unknown action: $action" ;;
esac
