#!/usr/bin/env bash
# Throughput of list endpoints as a ratio of GET /api/me's, in alternating rounds on one server:
# on a shared VM an endpoint's rate moves by tens of percent between runs a few seconds apart,
# so a single run of each (scale.sh) can put one ratio anywhere from 0.5× to 1×. Here every
# round runs /api/me and then each of PATHS for DURATION seconds, back to back, and the
# ratios are taken within the round; the medians over ROUNDS rounds are the result (the first
# round warms up and is not counted).
#
# The embedded default (SQLite + in-process store) with 10,000 demo users; the server pinned to
# core 0, wrk (one thread, 16 connections) to core 1; signed requests by the first demo user.
#
#   ROUNDS=11 DURATION=2 bash benches/load/ratio.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
ROUNDS=${ROUNDS:-11}
DURATION=${DURATION:-2}
PATHS=${PATHS:-/api/user/nearby/list /api/user/hot/list}
BIN=$PWD/target/release
WORK=$(mktemp -d /tmp/kotori-ratio.XXXXXX)
server_pid=""
trap clean_up EXIT

cargo build --release -q -p example-dating -p kotori-benches --bin example-dating --bin signed-requests
db="sqlite://$WORK/ratio.sqlite?mode=rwc"
(cd "$WORK" && env DATABASE_URL="$db" RUST_LOG=warn "$BIN/example-dating" demo-data --users 10000 > /dev/null 2>&1)
phone=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT phone FROM user_info ORDER BY user_id LIMIT 1").fetchone()[0])' "$WORK/ratio.sqlite")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="$db" SIGNING_WINDOW_SECS=3600 RUST_LOG=warn \
   taskset -c 0 "$BIN/example-dating" serve) > "$WORK/server.log" 2>&1 &
server_pid=$!
wait_port "$port" 120
wait_ready "$port" 120
token=$(login "$port" "$phone")

# rate PATH: requests a second over one run of DURATION seconds (signed afresh: a signed
# request is sent once).
rate() {
  # More than this machine serves (80,000 a second was too few on a newer VM: wrk sent its
  # list again, and the replays were refused).
  "$BIN/signed-requests" "$1" "$token" $((DURATION * 200000)) > "$WORK/signed.lua"
  local out
  out=$(taskset -c 1 wrk -t1 -c16 -d"${DURATION}s" --latency -s "$WORK/signed.lua" "http://127.0.0.1:$port")
  # wrk_row refuses a run with non-2xx answers; its first column is requests a second.
  wrk_row "$out" 0 | cut -f1
}

: > "$WORK/ratios"
for round in $(seq 0 "$ROUNDS"); do
  me=$(rate /api/me)
  line="round $round: /api/me $me req/s"
  for path in $PATHS; do
    r=$(rate "$path")
    ratio=$(awk -v a="$r" -v b="$me" 'BEGIN {printf "%.3f", a / b}')
    line="$line, $path ${ratio}×"
    [ "$round" -gt 0 ] && echo "$path $ratio" >> "$WORK/ratios"
  done
  echo "$line" >&2
done
for path in $PATHS; do
  awk -v p="$path" '$1 == p {print $2}' "$WORK/ratios" | sort -n | awk -v p="$path" \
    '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
      printf "%s / /api/me: median %.2f× over %d rounds (%.2f–%.2f)\n", p, m, NR, v[1], v[NR]}'
done
