#!/usr/bin/env bash
# CI for the web client: generated types in step with the OpenAPI and AsyncAPI documents,
# typecheck, unit tests, the JavaScript budget, and proof that the committed
# bundle (web/dist, embedded in the binary) is what the sources build.
set -euo pipefail
cd "$(dirname "$0")/../web"

npm ci --no-audit --no-fund
npm run check:gen
npm run typecheck
npm test
npm run build
npm run size
if ! git diff --exit-code --stat -- dist || [ -n "$(git status --porcelain --untracked-files=all -- dist)" ]; then
  echo "web/dist is not what web/ builds: run 'npm run build' in web/ and commit web/dist." >&2
  exit 1
fi
