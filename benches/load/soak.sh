#!/usr/bin/env bash
# The embedded default under a long signed load: TOTAL (default 10,000,000) signed GET /api/me
# requests, each with its own nonce, against example-dating on SQLite with the in-process
# store; prints the server's resident memory every tenth of the way and the latency
# percentiles at the end (target/load/soak.jsonl). The store must hold its memory: expired
# nonces and signatures are swept, so RSS stays flat after warm-up. RATE (requests/s) paces
# the load on a fixed schedule instead of saturating the server (latency then counts from when
# each request was due).
set -euo pipefail
cd "$(dirname "$0")/../.."
TOTAL=${TOTAL:-10000000}
CONNS=${CONNS:-16}
RATE=${RATE:-}
OUT=target/load
WORK=$(mktemp -d /tmp/kotori-soak.XXXXXX)
BIN=target/release
mkdir -p "$OUT"
cargo build --release -q -p kotori-benches --bin soak
cargo build --release -q -p example-dating
port=9301
(cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="sqlite://$WORK/dating.sqlite?mode=rwc" \
   SIGNING_WINDOW_SECS=60 RUST_LOG=warn taskset -c 0 "$OLDPWD/$BIN/example-dating" serve) > "$WORK/server.log" 2>&1 &
trap 'kill $(pgrep -f "$BIN/example-dating serve" -n) 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
pid=$(pgrep -f "$BIN/example-dating serve" -n)
code=$("$BIN/example-dating" call POST /api/auth/sendsms phone=18922986865 --addr "127.0.0.1:$port" --no-token | awk -F'"' '/"code": "/ {print $4}')
token=$("$BIN/example-dating" call POST /api/auth/login phone=18922986865 "code=$code" --addr "127.0.0.1:$port" --no-token | awk -F'"' '/"token"/ {print $4}')
taskset -c 1 "$BIN/soak" "127.0.0.1:$port" "$token" "$TOTAL" "$CONNS" "$pid" $RATE | tee "$OUT/soak.jsonl"
