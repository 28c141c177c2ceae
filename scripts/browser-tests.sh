#!/usr/bin/env bash
# Browser tests: builds `hothour` (with the committed web/dist embedded), then
# drives Debian's chromium with playwright-core against it, on a SQLite temp
# file and then on a throw-away PostgreSQL database. The payment tests start
# localstripe (the pinned one in target/test-tools/, installed here if the
# cargo tests have not done so already: python3 with venv and PyPI).
# Screenshots of failing tests land in target/browser-tests/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "chromium is missing: apt-get install -y chromium" >&2
  exit 1
fi
cargo build -p hothour-api --bin hothour
localstripe="$(bash scripts/install-localstripe.sh)"
echo "localstripe: $localstripe"
target_dir="${CARGO_TARGET_DIR:-target}"
export HOTHOUR_BIN="$(cd "$target_dir" && pwd)/debug/hothour"
cd web
[ -d node_modules ] || npm ci --no-audit --no-fund
for store in sqlite postgres; do
  echo "browser tests on $store"
  HOTHOUR_TEST_STORE=$store npm run e2e
done
