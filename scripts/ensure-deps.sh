#!/usr/bin/env bash
# Installs node_modules from the lockfile when they are missing, or brings them up to date when
# the lockfile changed since the last install (compared by content, not by file time, so a fresh
# checkout beside an installed tree does not reinstall).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
stamp=node_modules/.flashdrop-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ]; then
  echo "[deps] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
elif [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[deps] lockfile changed: npm install"
  npm install --no-audit --no-fund --loglevel=error
fi
echo "$want" >"$stamp"
