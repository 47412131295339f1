#!/usr/bin/env bash
# Installs the benchmark's compiled load generators when they are missing, so that a fresh clone
# runs `npm run bench` by itself:
#   wrk     Debian package `wrk` (closed loop, LuaJIT scripts; Modified Apache 2.0 License 2.0.1,
#           Apache-2.0 terms), into /usr/bin by apt-get.
#   vegeta  github.com/tsenart/vegeta/v12 from the Go module proxy (open model at a constant rate;
#           MIT), built by `go install` into $FLASHDROP_DATA_DIR/tools/bin.
# A generator that cannot be had is reported with the exact error and skipped: the runner then
# falls back to autocannon (npm, MIT) for the runs it would have driven. Exit 0 unless --strict.
# Usage: load-tests/generators/install.sh [--strict] [--help]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOG_TAG=generators
# shellcheck source=../../infra/lib.sh
source "$ROOT/infra/lib.sh"

VEGETA_MODULE=github.com/tsenart/vegeta/v12
VEGETA_VERSION="${VEGETA_VERSION:-v12.13.0}"
TOOLS_BIN="$DATA/tools/bin"
strict=0
for arg in "$@"; do
  case "$arg" in
    --strict) strict=1 ;;
    -h | --help)
      sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown flag: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

missing=0
if command -v wrk >/dev/null; then
  log "wrk: $(command -v wrk)"
else
  log "wrk missing: installing the Debian package wrk"
  if (apt_install wrk) && command -v wrk >/dev/null; then
    log "wrk: $(command -v wrk)"
  else
    log "wrk could not be installed (the error is above): autocannon drives the closed loops"
    missing=1
  fi
fi

if [ -x "$TOOLS_BIN/vegeta" ]; then
  log "vegeta: $TOOLS_BIN/vegeta"
elif ! command -v go >/dev/null; then
  log "vegeta missing and no Go toolchain to build it: autocannon drives the open-model runs"
  missing=1
else
  log "vegeta missing: go install $VEGETA_MODULE@$VEGETA_VERSION (about 30 s)"
  mkdir -p "$TOOLS_BIN"
  if out="$(GOBIN="$TOOLS_BIN" GOFLAGS=-mod=mod go install "$VEGETA_MODULE@$VEGETA_VERSION" 2>&1)"; then
    log "vegeta: $TOOLS_BIN/vegeta"
  else
    log "vegeta could not be built: $out"
    log "autocannon drives the open-model runs"
    missing=1
  fi
fi

if [ "$missing" = 1 ] && [ "$strict" = 1 ]; then exit 1; fi
exit 0
