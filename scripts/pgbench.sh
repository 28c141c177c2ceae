#!/usr/bin/env bash
# PostgreSQL's own ceiling on this machine, for the ratios in BENCHMARKS.md:
# the same 64 clients for the same 20 s as hothour-bench, on a throw-away
# database, durable commits.
#
#   one-row    each transaction locks one shared row, updates it, inserts a
#              row and commits (what a hold on one event must at least do)
#   pk-select  a primary-key select (what a read must at least do)
#   spread     the one-row transaction on a row picked at random among 1,000
#              (what a hold on one of many events must at least do)
#   spread-notify  the same with one pg_notify in the transaction (what a
#              write that announces itself inside its own transaction costs)
#
#   scripts/pgbench.sh                 every script
#   scripts/pgbench.sh spread spread-notify   only these
#   PG_URL=postgres://postgres@127.0.0.1:5432 PGBENCH_CLIENTS=64 PGBENCH_SECONDS=20 scripts/pgbench.sh
set -euo pipefail
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=hothour_pgbench
CLIENTS=${PGBENCH_CLIENTS:-64}
SECONDS_=${PGBENCH_SECONDS:-20}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null || true' EXIT

psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null
psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB"
psql "$PG_URL/$DB" -q <<'SQL'
CREATE TABLE parent (id bigint PRIMARY KEY, held integer NOT NULL, title text NOT NULL);
INSERT INTO parent SELECT g, 0, 'event ' || g FROM generate_series(1, 1000) g;
CREATE TABLE child (id bigserial PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parent (id), created_at timestamptz NOT NULL);
SQL

cat > "$WORK/one-row.sql" <<'SQL'
BEGIN;
SELECT held FROM parent WHERE id = 1 FOR UPDATE;
UPDATE parent SET held = held + 1 WHERE id = 1;
INSERT INTO child (parent_id, created_at) VALUES (1, now());
COMMIT;
SQL
cat > "$WORK/spread.sql" <<'SQL'
\set id random(1, 1000)
BEGIN;
SELECT held FROM parent WHERE id = :id FOR UPDATE;
UPDATE parent SET held = held + 1 WHERE id = :id;
INSERT INTO child (parent_id, created_at) VALUES (:id, now());
COMMIT;
SQL
cat > "$WORK/spread-notify.sql" <<'SQL'
\set id random(1, 1000)
BEGIN;
SELECT held FROM parent WHERE id = :id FOR UPDATE;
UPDATE parent SET held = held + 1 WHERE id = :id;
INSERT INTO child (parent_id, created_at) VALUES (:id, now());
SELECT pg_notify('pgbench', :id::text);
COMMIT;
SQL
cat > "$WORK/pk-select.sql" <<'SQL'
\set id random(1, 1000)
SELECT id, held, title FROM parent WHERE id = :id;
SQL

SCRIPTS=("$@")
[ ${#SCRIPTS[@]} -gt 0 ] || SCRIPTS=(one-row spread spread-notify pk-select)
for script in "${SCRIPTS[@]}"; do
  [ -f "$WORK/$script.sql" ] || { echo "pgbench.sh: no script $script" >&2; exit 1; }
  tps=$(pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_" -f "$WORK/$script.sql" "$PG_URL/$DB" 2>/dev/null |
    awk '/^tps = / {print $3; exit}')
  echo "pgbench $script: $tps tps ($CLIENTS clients, ${SECONDS_} s)"
done
