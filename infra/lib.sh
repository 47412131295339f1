# shellcheck shell=bash
# Shared helpers for the Flashdrop infra scripts. Sourced, not executed.
# Data root: $FLASHDROP_DATA_DIR or <repo>/.data (git-ignored).

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/.." && pwd)"
DATA="${FLASHDROP_DATA_DIR:-$REPO_ROOT/.data}"
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd -P)"
export FLASHDROP_DATA_DIR="$DATA"

log()  { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# Read a pid from a pidfile (digits only), empty if absent.
read_pid() { [ -f "$1" ] && tr -dc '0-9' <"$1" || true; }

# pid_alive PID: exists and is not a zombie (a kill -9'd daemon can linger as a
# zombie until its parent reaps it; kill -0 alone would call it alive).
pid_alive() {
  local pid="$1" st
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    st="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] || return 1
  fi
}

# pid_matches PID PATTERN: process alive and its cmdline contains PATTERN
# (guards against a stale pidfile whose pid was reused by something else).
pid_matches() {
  local pid="$1" pat="$2"
  pid_alive "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pat"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_free PORT [SECONDS]: true once nothing listens on PORT (gives a just-killed
# previous instance a moment to release its sockets).
port_free() {
  local port="$1" t="${2:-10}" i=0
  while port_open "$port"; do
    [ "$i" -ge $((t * 10)) ] && return 1
    sleep 0.1; i=$((i + 1))
  done
}

# wait_pid_gone PID SECONDS
wait_pid_gone() {
  local pid="$1" t="${2:-30}" i=0
  while pid_alive "$pid"; do
    [ "$i" -ge $((t * 10)) ] && return 1
    sleep 0.1; i=$((i + 1))
  done
}

# stop_pid PID NAME [SECONDS]: TERM, wait, then KILL.
stop_pid() {
  local pid="$1" name="$2" t="${3:-30}"
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_pid_gone "$pid" "$t"; then
    log "$name (pid $pid) did not stop in ${t}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10 || true
  fi
}

# apt_install PKG...: apt-get update (once per script run) + install, without
# letting the distro start its own services (policy-rc.d 101) on the way.
APT_UPDATED=0
apt_install() {
  [ "$(id -u)" -eq 0 ] || die "need root to apt-get install $*"
  command -v apt-get >/dev/null || die "apt-get not available; install $* manually"
  local created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  {
    if [ "$APT_UPDATED" -eq 0 ]; then apt-get update -q && APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  } >&2 || rc=$?
  [ "$created_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" -eq 0 ] || die "apt-get install $* failed (rc=$rc)"
}

# disable_distro_service NAME: with systemd, keep the packaged service from
# running/booting (we run our own processes on our own config).
disable_distro_service() {
  command -v systemctl >/dev/null || return 0
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$1" >/dev/null 2>&1 || true
  else
    systemctl disable "$1" >/dev/null 2>&1 || true   # no systemd running: just drop boot links
  fi
}

# ensure_redis_installed: redis-server and redis-cli from Debian, with the packaged service
# (port 6379, /var/lib/redis) kept off: we run our own processes on our own config.
ensure_redis_installed() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then return 0; fi
  log "redis-server/redis-cli missing — installing Debian package redis-server"
  apt_install redis-server redis-tools
  disable_distro_service redis-server
  command -v redis-server >/dev/null || die "redis-server still missing after install"
}

# redis_conf PORT DIR: the part of a redis.conf every Redis of ours shares (one server in
# infra/redis.sh, each cluster node in infra/redis-cluster.sh): loopback only, our own pid and
# log files in DIR, and the durability the invariants rest on: appendonly + appendfsync always,
# so a write Redis acknowledged is on disk before the reply (kill -9 loses nothing answered).
redis_conf() {
  local port="$1" dir="$2"
  cat <<CONF
port $port
bind 127.0.0.1
protected-mode no
daemonize yes
supervised no
pidfile $dir/redis.pid
logfile $dir/redis.log
loglevel notice
dir $dir
appendonly yes
appendfsync always
appendfilename "appendonly.aof"
appenddirname "appendonlydir"
aof-use-rdb-preamble yes
no-appendfsync-on-rewrite no
save 3600 1 300 100 60 10000
dbfilename dump.rdb
maxclients 10000
tcp-backlog 511
CONF
}
