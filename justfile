# HotHour's daily recipes. `just --list` shows them.

# Serve the API (a SQLite file by default; DATABASE_URL=postgres://… for PostgreSQL).
run:
    cargo run -p hothour-api --bin hothour

# The web client with hot reload (Vite on http://127.0.0.1:5173), against the service `just run` started.
web:
    cd web && (test -d node_modules || npm ci) && npm run dev

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

# Regenerate openapi/asyncapi.json (the live protocol) from the code.
asyncapi:
    cargo run -q -p hothour-api --bin hothour -- asyncapi > openapi/asyncapi.json

# Validate openapi/asyncapi.json with the AsyncAPI parser.
lint-asyncapi:
    bash scripts/lint-asyncapi.sh

# Regenerate docs/errors.md, the error catalogue, from ProblemCode.
errors:
    cargo run -q -p hothour-api --bin hothour -- errors > docs/errors.md

# Lint the OpenAPI document (redocly, spectral, strict TypeScript).
lint-openapi:
    bash scripts/lint-openapi.sh

# Benchmarks on PostgreSQL: a fresh server and database per scenario (`just bench hold-storm read` for some).
bench *scenarios:
    bash scripts/bench.sh {{scenarios}}

# The same benchmarks on the embedded SQLite store.
bench-sqlite *scenarios:
    STORE=sqlite bash scripts/bench.sh {{scenarios}}

# Start PostgreSQL in a container (needs a Docker engine).
db-up:
    docker compose up -d postgres

# The web client's checks, and its browser tests (chromium).
web-check:
    bash scripts/check-web.sh
    bash scripts/browser-tests.sh

# Everything CI runs.
ci:
    bash .ci/run
