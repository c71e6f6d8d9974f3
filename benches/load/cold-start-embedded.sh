#!/usr/bin/env bash
# A cold start of the embedded default (SQLite file, in-process store) at USERS demo users, as
# a client sees it: the server pinned to core 0 and restarted (its in-process store is empty,
# so the geo index, the hot ranking and the count of public people are all loaded again), a
# client on core 1 sending signed GET /api/me one after another from the first accept, for
# DURATION seconds, /readyz polled beside it (benches/load/cold-probe.py). ROUNDS restarts.
#
#   USERS=1000000 DURATION=20 ROUNDS=3 bash benches/load/cold-start-embedded.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh
USERS=${USERS:-1000000}
SECONDS_EACH=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
BIN=$PWD/target/release
WORK=$(mktemp -d /tmp/kotori-cold-embedded.XXXXXX)
server_pid=""
trap clean_up EXIT
cargo build --release -q -p example-dating
export DATABASE_URL="sqlite://$WORK/dating.sqlite?mode=rwc" LISTEN=127.0.0.1:9398 RUST_LOG=warn
started=$(date +%s)
(cd "$WORK" && "$BIN/example-dating" demo-data --users "$USERS" > /dev/null 2>&1)
echo "filled $USERS users in $(( $(date +%s) - started )) s"

"$BIN/example-dating" serve > "$WORK/server.log" 2>&1 &
server_pid=$!
wait_port 9398
token=$(login 9398 13900001111)
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

for round in $(seq 1 "$ROUNDS"); do
  taskset -c 0 "$BIN/example-dating" serve > "$WORK/server.log" 2>&1 &
  server_pid=$!
  echo -n "round $round: "
  taskset -c 1 python3 benches/load/cold-probe.py 9398 "$token" "$SECONDS_EACH" /api/me
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
