#!/usr/bin/env bash
# Benchmarks HotHour on PostgreSQL (see BENCHMARKS.md): builds release
# binaries, measures PostgreSQL's own ceiling with pgbench (scripts/pgbench.sh),
# start-up and idle memory, then runs each scenario of
# `hothour-bench` against a fresh `hothour` on a fresh `hothour_bench` database.
#
#   scripts/bench.sh                      every scenario
#   scripts/bench.sh hold-storm read      only these
#   PG_URL=postgres://postgres@127.0.0.1:5432 BENCH_PORT=18080 scripts/bench.sh
#   STORE=sqlite scripts/bench.sh           the same on the embedded SQLite store
#                                          (a file under target/bench; pgbench still runs, for the ratios)
#
# Output goes to the terminal and to target/bench/ (one file per scenario,
# the server's log, and summary.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=hothour_bench
PORT=${BENCH_PORT:-18080}
OUT=target/bench
STORE=${STORE:-postgres}
SCENARIOS=("$@")
case "$STORE" in
  postgres)
    DATABASE_URL=$PG_URL/$DB
    [ ${#SCENARIOS[@]} -gt 0 ] ||
      SCENARIOS=(hold-storm hold-spread hold-correctness hold-pileup grab-race hold-confirm read ws-fanout hold-profile) ;;
  sqlite)
    SQLITE_FILE=$OUT/hothour-bench.db
    DATABASE_URL=sqlite://$SQLITE_FILE
    # hold-profile replays PostgreSQL statements.
    [ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(hold-storm hold-spread hold-correctness hold-pileup grab-race hold-confirm read ws-fanout) ;;
  *) echo "bench.sh: STORE must be postgres or sqlite" >&2; exit 1 ;;
esac

export JWT_SECRET=${JWT_SECRET:-bench-only-secret-0123456789-abcdefghij}
export BENCH_BASE_URL=http://127.0.0.1:$PORT
export BENCH_DATABASE_URL=$DATABASE_URL
SERVER_ENV=(
  DATABASE_URL="$DATABASE_URL" BIND="127.0.0.1:$PORT" RUST_LOG=warn BCRYPT_COST=4 DB_MAX_CONNECTIONS=32
  RATE_LIMIT_AUTH_PER_MINUTE=1000000 RATE_LIMIT_BOOKING_PER_MINUTE=1000000 RATE_LIMIT_WRITES_PER_MINUTE=1000000 WS_MAX_SOCKETS_PER_IP=1000000
)

case "$PG_URL" in
  postgres://*@127.0.0.1:* | postgres://*@localhost:*) ;;
  *) echo "bench.sh: PG_URL must point at 127.0.0.1" >&2; exit 1 ;;
esac

mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
say() { echo "$@" | tee -a "$SUMMARY"; }

# 10,000 WebSockets need as many descriptors in the server and in the tool.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "open files limit (ulimit -n): $(ulimit -n)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 10300 ] ||
  say "warning: ulimit -n is below 10300; ws-fanout with 10,000 sockets will refuse to run"

cargo build --release -p hothour-api --bin hothour
cargo build --release -p hothour-bench
SERVER=target/release/hothour
BENCH=target/release/hothour-bench

say "machine: $(nproc) cores, $(free -m | awk '/^Mem:/ {print $2}') MB memory, $(uname -sr)"
say "postgresql: $(psql "$PG_URL/postgres" -Atc 'SHOW server_version') (synchronous_commit=$(psql "$PG_URL/postgres" -Atc 'SHOW synchronous_commit'), shared_buffers=$(psql "$PG_URL/postgres" -Atc 'SHOW shared_buffers'))"
say "store under test: $STORE ($DATABASE_URL)"

# PostgreSQL's own ceiling in this same run, for the ratios in BENCHMARKS.md.
PG_URL=$PG_URL bash scripts/pgbench.sh | tee -a "$SUMMARY"

SERVER_PID=
fresh_database() {
  if [ "$STORE" = sqlite ]; then
    rm -f "$SQLITE_FILE" "$SQLITE_FILE-wal" "$SQLITE_FILE-shm"
  else
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null
  fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
start_server() {
  local started ready
  started=$(now_ms)
  env "${SERVER_ENV[@]}" "$SERVER" serve >> "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 3000); do
    if curl -sf "http://127.0.0.1:$PORT/health/ready" > /dev/null 2>&1; then
      ready=$(now_ms)
      STARTUP_MS=$((ready - started))
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited; see $OUT/server.log" >&2; exit 1; }
    sleep 0.005
  done
  echo "the server did not become ready in 15 s" >&2
  exit 1
}
# A second instance on the same database, for what crosses instances.
OBSERVER_PID=
OBSERVER_PORT=$((PORT + 1))
start_observer() {
  env "${SERVER_ENV[@]}" BIND="127.0.0.1:$OBSERVER_PORT" "$SERVER" serve >> "$OUT/observer.log" 2>&1 &
  OBSERVER_PID=$!
  for _ in $(seq 1 3000); do
    curl -sf "http://127.0.0.1:$OBSERVER_PORT/health/ready" > /dev/null 2>&1 && return 0
    kill -0 "$OBSERVER_PID" 2>/dev/null || { echo "the observer exited; see $OUT/observer.log" >&2; exit 1; }
    sleep 0.005
  done
  echo "the observer did not become ready in 15 s" >&2
  exit 1
}
stop_server() {
  if [ -n "$OBSERVER_PID" ]; then
    kill -TERM "$OBSERVER_PID" 2>/dev/null || true
    wait "$OBSERVER_PID" 2>/dev/null || true
    OBSERVER_PID=
  fi
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

: > "$OUT/server.log"
: > "$OUT/observer.log"
# Start-up: on an empty database (creates it and migrates), then again on the migrated one.
fresh_database
start_server
say "start-up to ready, new database (create + migrate): ${STARTUP_MS} ms"
stop_server
start_server
say "start-up to ready, migrated database: ${STARTUP_MS} ms"
sleep 2
say "idle RSS 2 s after ready: $(rss_kb "$SERVER_PID") kB"
stop_server

status=0
# Runs one scenario on a fresh database and a fresh server, so that none
# inherits another's rows or memory; with `observed`, a second instance on
# the same database times each hold's news (hold-spread only).
run_scenario() {
  local scenario=$1 observed=${2:-} out=$1
  fresh_database
  start_server
  args=()
  if [ -n "$observed" ]; then
    start_observer
    args=(--observe "http://127.0.0.1:$OBSERVER_PORT")
    out=$scenario-observed
  fi
  sleep 1
  say ""
  say "### $out   (server pid $SERVER_PID, VmRSS $(rss_kb "$SERVER_PID") kB, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  say "\$ $BENCH --server-pid $SERVER_PID $scenario ${args[*]}"
  if ! "$BENCH" --server-pid "$SERVER_PID" "$scenario" "${args[@]}" 2>&1 | tee "$OUT/$out.txt"; then
    status=1
  fi
  grep -E '^(==|  )' "$OUT/$out.txt" | grep -v '  json:' >> "$SUMMARY" || true
  stop_server
}
for scenario in "${SCENARIOS[@]}"; do
  run_scenario "$scenario"
  # On PostgreSQL, hold-spread runs again with a second instance sharing the
  # two cores and timing each hold's news there (SQLite serves one process).
  if [ "$scenario" = hold-spread ] && [ "$STORE" = postgres ]; then
    run_scenario "$scenario" observed
  fi
done
fresh_database
say ""
say "results: $OUT/summary.txt and $OUT/<scenario>.txt"
exit $status
