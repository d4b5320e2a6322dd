# Ordeliya Customers — common tasks. `just --list` shows them.

# Serve on SQLite (data/customers.db), creating the first store on the first start.
run *ARGS:
    cargo run --release -- {{ARGS}}

# The whole test suite (PostgreSQL tests run when a server answers at TEST_DATABASE_URL).
test:
    cargo test --workspace

# Lints as CI runs them.
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Everything CI runs (requires PostgreSQL).
ci:
    bash .ci/run

# Load benchmark vs pgbench on the same SQL (docs/performance.md); phases: scaling pg sqlite (cursors when named).
bench *PHASES:
    bash bench/run {{PHASES}}
