#!/usr/bin/env bash
# Runs one of the commands of scripts/cli.ts (audit, demo, migrate, token, verify-draw): `npm run <command> --
# [flags]`. From the built bundle (dist/scripts/cli.js) when it is there and no source is newer;
# otherwise straight from the sources (ts-node: a few seconds more, no build needed). Variables
# the caller has not set come from the dev stack's profile (scripts/profiles/dev.env, and .env
# at the repository root when there is one), so the commands meet the stack npm start runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
while IFS='=' read -r key value; do
  [ -n "$key" ] && [ -z "${!key+x}" ] && export "$key=$value"
done < <(node scripts/profile-env.js dev)
bundle=dist/scripts/cli.js
if [ -f "$bundle" ] && [ -z "$(find scripts libs -name '*.ts' -newer "$bundle" -print -quit)" ]; then
  exec node --enable-source-maps "$bundle" "$@"
fi
exec node -r ts-node/register/transpile-only -r tsconfig-paths/register scripts/cli.ts "$@"
