#!/usr/bin/env bash
# Installs the OpenAPI fuzzer of `npm test` (apps/api/test/openapi-fuzz.e2e-spec.ts) when it is
# missing: schemathesis (PyPI, MIT), pinned, in a Python virtual environment of its own under
# $FLASHDROP_DATA_DIR/tools/fuzz-venv (never in the repository). It reads /docs/openapi.json and
# generates requests from it (Hypothesis), checking every answer against the document.
# Python: $FUZZ_PYTHON if set, else the first of python3.13, python3.12, python3 and pyenv's
# versions whose ast module is safe with threads (see THREAD_SAFE_AST below).
# Exits non-zero with pip's own error when it cannot be installed: the fuzz pass is part of the
# suite, not optional.
# Usage: scripts/fuzz/install.sh [--help]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOG_TAG=fuzz
# shellcheck source=../../infra/lib.sh
source "$ROOT/infra/lib.sh"

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
VENV="$DATA/tools/fuzz-venv"
# How many threads the fuzz spec may run schemathesis with (it reads this file): 2 with a Python
# whose ast is safe with threads, else 1.
WORKERS_FILE="$VENV/flashdrop-workers"
for arg in "$@"; do
  case "$arg" in
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

# CPython 3.11 before 3.11.8 and 3.12 before 3.12.2 keep the AST constructor's recursion depth in
# state shared by every thread; a garbage collection inside ast.parse lets another thread parse
# meanwhile, and the first then fails with "SystemError: AST constructor recursion depth mismatch"
# (python/cpython#106905, fixed by #113035). schemathesis' Coverage phase reaches ast.parse through
# Hypothesis (the description of a filtered strategy), so with --workers 2 on such a Python an
# operation now and then ends in a tool error, not in a verdict on the API.
THREAD_SAFE_AST='import sys; v = sys.version_info[:3]
sys.exit(0 if v >= (3, 13) or (3, 12, 2) <= v < (3, 13) or (3, 11, 8) <= v < (3, 12) else 1)'
MIN_PYTHON='import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'

installed_ok() {
  [ -x "$VENV/bin/schemathesis" ] && [ -f "$WORKERS_FILE" ] &&
    [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]
}

# The Pythons to try, best first: thread-safe ones, then any schemathesis accepts (one worker).
candidates() {
  local all=() p
  [ -n "${FUZZ_PYTHON:-}" ] && all+=("$FUZZ_PYTHON")
  for p in python3.13 python3.12 python3; do command -v "$p" >/dev/null 2>&1 && all+=("$(command -v "$p")"); done
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3; do [ -x "$p" ] && all+=("$p"); done
  for p in "${all[@]}"; do "$p" -c "$THREAD_SAFE_AST" 2>/dev/null && echo "2 $p"; done
  for p in "${all[@]}"; do "$p" -c "$MIN_PYTHON" 2>/dev/null && echo "1 $p"; done
}

install_with() {
  local python="$1"
  rm -rf "$VENV"
  "$python" -m venv "$VENV" &&
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
}

mkdir -p "$DATA/tools"
# One install at a time: two suites starting together must not build the same venv at once.
exec 9>"$DATA/tools/fuzz-venv.lock"
flock 9
if installed_ok; then
  log "schemathesis $SCHEMATHESIS_VERSION: $VENV/bin/schemathesis ($(cat "$WORKERS_FILE") workers)"
  exit 0
fi
while read -r workers python; do
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV with $python ($("$python" --version 2>&1)), pip from PyPI"
  if install_with "$python"; then
    echo "$workers" >"$WORKERS_FILE"
    [ "$workers" = 1 ] && log "$python's ast is not safe with threads (python/cpython#106905): the fuzz pass runs one worker"
    log "schemathesis: $("$VENV/bin/schemathesis" --version), $workers workers"
    exit 0
  fi
  log "could not install with $python; trying the next Python"
done < <(candidates | awk '!seen[$2]++')
rm -rf "$VENV"
die "schemathesis $SCHEMATHESIS_VERSION could not be installed (no Python >= 3.11 with a working pip and PyPI)"
