# Sourced by the CI checks that need the service running: builds the `customers` binary,
# creates a store on a fresh SQLite database and serves it on a free loopback port.
#
# After `start_customers`: $BASE (http://127.0.0.1:PORT), $TOKEN (the store owner's token),
# $STORE_ID, $SERVER_PID, $SERVER_LOG. `stop_customers` ends the server it started.

CUSTOMERS_BIN="${CUSTOMERS_BIN:-target/debug/customers}"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_customers() {
  local work="$1"
  cargo build --quiet -p customers-server --bin customers
  mkdir -p "$work"
  # CI_DATABASE_URL points the run at another, empty database (e.g. PostgreSQL) instead.
  local db="${CI_DATABASE_URL:-sqlite://$work/customers.db}"
  local created
  created=$("$CUSTOMERS_BIN" store create --database-url "$db" --name "CI restaurant" \
    --owner-email owner@example.dk 2>"$work/store-create.log")
  TOKEN=$(printf '%s' "$created" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  STORE_ID=$(printf '%s' "$created" | python3 -c 'import json, sys; print(json.load(sys.stdin)["storeId"])')
  local port
  port=$(free_port)
  BASE="http://127.0.0.1:$port"
  SERVER_LOG="$work/server.log"
  RUST_LOG="${RUST_LOG:-warn}" "$CUSTOMERS_BIN" serve --database-url "$db" \
    --listen "127.0.0.1:$port" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  echo "the service did not start:" >&2
  cat "$SERVER_LOG" >&2
  return 1
}

stop_customers() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
