#!/usr/bin/env bash
# Validates openapi/asyncapi.json with the AsyncAPI parser (pinned, with its
# lockfile, in openapi/asyncapi-lint/): any error or warning fails.
set -euo pipefail
cd "$(dirname "$0")/../openapi/asyncapi-lint"
# Install only when the lockfile changed; no install scripts are needed.
if ! cmp -s package-lock.json node_modules/.installed-lock.json 2>/dev/null; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock.json
fi
node lint.mjs ../asyncapi.json
