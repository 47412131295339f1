#!/usr/bin/env bash
# Installs the OpenAPI fuzzer of `npm test` (apps/api/test/openapi-fuzz.e2e-spec.ts) when it is
# missing: schemathesis (PyPI, MIT), pinned, in a Python virtual environment of its own under
# $FLASHDROP_DATA_DIR/tools/fuzz-venv (never in the repository). It reads /docs/openapi.json and
# generates requests from it (Hypothesis), checking every answer against the document.
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
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown flag: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

if [ -x "$VENV/bin/schemathesis" ] &&
  [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  log "schemathesis $SCHEMATHESIS_VERSION: $VENV/bin/schemathesis"
  exit 0
fi
log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV (pip, from PyPI)"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
log "schemathesis: $("$VENV/bin/schemathesis" --version)"
