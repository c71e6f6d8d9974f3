#!/usr/bin/env bash
# One live with many viewers over loopback (docs/src/dating/api/realtime.md): VIEWERS WebSockets subscribed to one
# live, danmaku posted through the signed API at rising RATES until p99 passes 100 ms — first on
# one example-dating (in-process fan-out), then on two behind one Redis. The server(s) run on
# core 0, the driver (benches/src/bin/live-load.rs) on core 1. Writes target/load/live.jsonl.
set -euo pipefail
cd "$(dirname "$0")/../.."
VIEWERS=${VIEWERS:-2000}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-5}
RATES=${RATES:-50,100,200,400,800,1600}
REDIS_URL_FOR_LOAD=${REDIS_URL_FOR_LOAD:-redis://127.0.0.1:6379}
BIN=target/release
OUT=target/load
WORK=$(mktemp -d /tmp/kotori-live.XXXXXX)
mkdir -p "$OUT"
: > "$OUT/live.jsonl"
# Every viewer is a descriptor on each side: raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  redis-cli -u "$REDIS_URL_FOR_LOAD" --scan --pattern "kotori-live-$$:*" | xargs -r -n 500 redis-cli -u "$REDIS_URL_FOR_LOAD" del > /dev/null 2>&1 || true
}
trap cleanup EXIT
cargo build --release -q -p example-dating -p kotori-benches --bin example-dating --bin live-load

. benches/load/common.sh
# Every viewer connects from 127.0.0.1: the per-address and connection limits are raised so
# that the driver measures delivery, not the limits.
server() { # PORT [REDIS]: starts example-dating on core 0 in $WORK, prints its pid
  (cd "$WORK" && exec env LISTEN="127.0.0.1:$1" DATABASE_URL="sqlite://$WORK/live.sqlite?mode=rwc" \
     SIGNING_WINDOW_SECS=3600 SMS_PER_CLIENT_DAILY=100000000 RUST_LOG=error \
     MAX_CONNECTIONS=100000 SOCKETS_PER_ADDRESS=100000 \
     ${2:+REDIS_URL=$2 REDIS_PREFIX=kotori-live-$$:} \
     taskset -c 0 "$OLDPWD/$BIN/example-dating" serve) > "$WORK/server-$1.log" 2>&1 &
  echo $!
}
operator() {
  (cd "$WORK" && echo "host-password-1" | DATABASE_URL="sqlite://$WORK/live.sqlite?mode=rwc" \
     "$OLDPWD/$BIN/example-dating" operator add --name "$1" --role host > /dev/null)
}

# One instance, in-process fan-out.
operator host1
pid=$(server 9301); pids+=("$pid"); wait_port 9301
taskset -c 1 "$BIN/live-load" 127.0.0.1:9301 "$pid" "$VIEWERS" "$SECONDS_PER_RATE" "$RATES" host1 host-password-1 | tee -a "$OUT/live.jsonl"
kill "$pid"; wait "$pid" 2>/dev/null || true

# Two instances behind one Redis: viewers on both, danmaku posted to the first.
operator host2
a=$(server 9302 "$REDIS_URL_FOR_LOAD"); pids+=("$a")
b=$(server 9303 "$REDIS_URL_FOR_LOAD"); pids+=("$b")
wait_port 9302; wait_port 9303
taskset -c 1 "$BIN/live-load" 127.0.0.1:9302,127.0.0.1:9303 "$a,$b" "$VIEWERS" "$SECONDS_PER_RATE" "$RATES" host2 host-password-1 | tee -a "$OUT/live.jsonl"
