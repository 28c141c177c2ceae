#!/usr/bin/env bash
# Fuzzes a live `hothour` from its OpenAPI document with schemathesis (pinned
# in scripts/fuzz-requirements.txt) on one store, signed in as a platform admin
# and as a customer, with every schemathesis check (`--checks all`: answers
# conform to the document, schema-valid requests are accepted and invalid
# ones refused, wrong methods are 405, ...). It fails on any check failure,
# any server error (>= 500), or fewer requests than FUZZ_MIN_REQUESTS.
#
#   bash scripts/fuzz.sh sqlite|postgres
set -euo pipefail
store=${1:?usage: fuzz.sh sqlite|postgres}
cd "$(dirname "$0")/.."
root_dir=$(pwd)
target_dir=${CARGO_TARGET_DIR:-$root_dir/target}
min_requests=${FUZZ_MIN_REQUESTS:-2000}
examples=${FUZZ_MAX_EXAMPLES:-40}

venv="$target_dir/fuzz-venv"
if [ ! -x "$venv/bin/schemathesis" ] || ! cmp -s scripts/fuzz-requirements.txt "$venv/requirements.txt"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r scripts/fuzz-requirements.txt
  cp scripts/fuzz-requirements.txt "$venv/requirements.txt"
fi

cargo build --quiet -p hothour-api --bin hothour
bin="$target_dir/debug/hothour"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
case "$store" in
  sqlite) export DATABASE_URL="sqlite://$work/hothour.db" ;;
  postgres) export DATABASE_URL="postgres://postgres@127.0.0.1:5432/hothour_fuzz_$$" ;;
  *) echo "unknown store $store" >&2; exit 2 ;;
esac
export BIND="127.0.0.1:$port" APP_ENV=test BCRYPT_COST=4 RUST_LOG=warn LOG_FORMAT=text \
  RATE_LIMIT_AUTH_PER_MINUTE=1000000 RATE_LIMIT_BOOKING_PER_MINUTE=1000000 \
  RATE_LIMIT_LOGIN_PER_ACCOUNT_PER_MINUTE=1000000 RATE_LIMIT_PASSWORD_PER_MINUTE=1000000 \
  RATE_LIMIT_WRITES_PER_MINUTE=1000000 RATE_LIMIT_LOGIN_PER_CLIENT_PER_MINUTE=1000000 \
  ACCESS_TOKEN_TTL=86400

server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  if [ "$store" = postgres ] && command -v psql >/dev/null; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS hothour_fuzz_$$ WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

HOTHOUR_ADMIN_PASSWORD=fuzz-root-password "$bin" create-admin --email root@fuzz.test >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "$base/health/ready" >/dev/null && break
  sleep 0.1
done

json_field() { python3 -c "import sys, json; print(json.load(sys.stdin)['$1'])"; }
post() { curl -fs "$base/api/v1$1" -H 'content-type: application/json' "${@:3}" -d "$2"; }
root=$(post /auth/login '{"email":"root@fuzz.test","password":"fuzz-root-password"}' | json_field access_token)
post /studios '{"name":"Fuzz Studio","address":"Moda 1","timezone":"Europe/Istanbul"}' -H "authorization: Bearer $root" >/dev/null
customer=$(post /auth/register '{"email":"ada@fuzz.test","password":"fuzz-user-password","full_name":"Ada"}' | json_field access_token)

requests() {
  curl -fs "$base/metrics" | awk '/^hothour_http_request_duration_seconds_count/ { n += $2 } END { print n + 0 }'
}
server_errors() {
  curl -fs "$base/metrics" | awk '/^hothour_http_request_duration_seconds_count/ && /status="5/ { n += $2 } END { print n + 0 }'
}

# One worker: with two, CPython 3.11's `ast` occasionally trips over itself
# in hypothesis ("AST constructor recursion depth mismatch"), a tool error.
status=0
for token in "$root" "$customer"; do
  FUZZ_TOKEN="$token" "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run openapi/openapi.json --url "$base" \
    --checks all --max-examples "$examples" --workers 1 \
    --phases examples,coverage,fuzzing --seed 9 --no-color \
    --suppress-health-check all --request-timeout 10 || status=1
done

made=$(requests)
errors=$(server_errors)
echo "fuzz on $store: $made requests answered, $errors server errors"
if [ "$errors" != 0 ]; then
  echo "server errors logged:" >&2
  grep -iE "error|panic" "$work/server.log" | tail -20 >&2 || true
  status=1
fi
if [ "$made" -lt "$min_requests" ]; then
  echo "fewer than $min_requests requests were made" >&2
  status=1
fi
exit $status
