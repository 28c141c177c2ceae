# HotHour's daily recipes. `just --list` shows them.

# Serve the API (a SQLite file by default; DATABASE_URL=postgres://… for PostgreSQL).
run:
    cargo run -p hothour-api --bin hothour

# Fill the running service's database with a demo studio, auctions and an event.
seed:
    cargo run -q -p hothour-api --bin hothour -- seed-demo

# Run every test (each test gets its own throw-away PostgreSQL database).
test:
    cargo test --workspace

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate openapi/openapi.json from the code.
openapi:
    cargo run -q -p hothour-api --bin hothour -- openapi > openapi/openapi.json

# Regenerate docs/errors.md, the error catalogue, from ProblemCode.
errors:
    cargo run -q -p hothour-api --bin hothour -- errors > docs/errors.md

# Lint the OpenAPI document (redocly, spectral, strict TypeScript).
lint-openapi:
    bash scripts/lint-openapi.sh

# Benchmarks on PostgreSQL: a fresh server and database per scenario (`just bench hold-storm read` for some).
bench *scenarios:
    bash scripts/bench.sh {{scenarios}}

# Start PostgreSQL in a container (needs a Docker engine).
db-up:
    docker compose up -d postgres

# Everything CI runs.
ci:
    bash .ci/run
