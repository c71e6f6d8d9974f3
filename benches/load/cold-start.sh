#!/usr/bin/env bash
# A cold start at USERS demo users on PostgreSQL + Redis: how long until the server answers
# /healthz, and until /readyz says its indexes (geo, hot ranking) are loaded — with a new Redis
# prefix (an empty store: everything is loaded), then again with the same prefix (a restart
# that keeps Redis: nothing to load).
#
#   USERS=1000000 bash benches/load/cold-start.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh
USERS=${USERS:-1000000}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
REDIS_URL_FOR_LOAD=${REDIS_URL_FOR_LOAD:-redis://127.0.0.1:6379}
BIN=$PWD/target/release
PG_DB=kotori_cold_$$
PREFIX=kotori-cold-$$:
WORK=$(mktemp -d /tmp/kotori-cold.XXXXXX)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  drop_scratch "$PG_DB" "$PREFIX"
  rm -rf "$WORK"
}
trap cleanup EXIT
cargo build --release -q -p example-dating

psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
db_url="$POSTGRES_URL/$PG_DB"
started=$(date +%s)
# Filled without Redis: the store starts empty, as after a flush.
(cd "$WORK" && env DATABASE_URL="$db_url" RUST_LOG=warn "$BIN/example-dating" demo-data --users "$USERS" > /dev/null 2>&1)
echo "filled $USERS users in $(( $(date +%s) - started )) s"

# until URL: seconds (3 decimals) from $t0 until URL answers 200.
until_ok() {
  while [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" != 200 ]; do sleep 0.05; done
  python3 -c "import time, sys; print(f'{time.time() - float(sys.argv[1]):.3f}')" "$t0"
}

for run in "empty store" "kept store"; do
  t0=$(python3 -c 'import time; print(time.time())')
  (cd "$WORK" && exec env LISTEN=127.0.0.1:9399 DATABASE_URL="$db_url" REDIS_URL="$REDIS_URL_FOR_LOAD" \
     REDIS_PREFIX="$PREFIX" RUST_LOG=warn "$BIN/example-dating" serve) > "$WORK/server.log" 2>&1 &
  server_pid=$!
  health=$(until_ok http://127.0.0.1:9399/healthz)
  ready=$(until_ok http://127.0.0.1:9399/readyz)
  echo "$run: /healthz after ${health} s, /readyz after ${ready} s"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
