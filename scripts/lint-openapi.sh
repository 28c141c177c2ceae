#!/usr/bin/env bash
# Lints openapi/openapi.json with the tools pinned in openapi/lint/package.json
# (and its lockfile): redocly (recommended rules) and spectral (oas ruleset) must
# report 0 errors, and a strict TypeScript flow written against
# openapi-typescript's output must compile (tsc --strict).
#
#   bash scripts/lint-openapi.sh
set -euo pipefail
cd "$(dirname "$0")/../openapi/lint"
if [ ! -d node_modules ] || ! cmp -s package-lock.json node_modules/.package-lock.json; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install redocly lint ../openapi.json --extends recommended --format stylish
npx --no-install spectral lint ../openapi.json --ruleset .spectral.yaml --fail-severity error
mkdir -p generated
npx --no-install openapi-typescript ../openapi.json -o generated/api.ts
npx --no-install tsc -p tsconfig.json
echo "openapi: redocly, spectral and the strict TypeScript flow pass"
