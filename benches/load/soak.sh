#!/usr/bin/env bash
# The app under a long signed load: TOTAL (default 10,000,000) signed GET /api/me requests,
# each with its own nonce, against example-dating on SQLite with the in-process store; prints
# the server's resident memory every tenth of the way and the latency percentiles at the end
# (target/load/soak.jsonl). The store must hold its memory: expired nonces and signatures are
# swept, so RSS stays flat after warm-up. RATE (requests/s) paces the load on a fixed schedule
# instead of saturating the server (latency then counts from when each request was due).
#
# STORE=redis runs the app on a Redis of its own (a redis-server started on REDIS_PORT, 6390 by
# default, on the load's core, and stopped at the end) and writes its key count every 10 s to
# target/load/soak-keys.tsv: every key the app writes expires or is bounded, so the count
# levels off once two signing windows of nonces are held.
#
#   RATE=2500 TOTAL=10000000 bash benches/load/soak.sh
#   STORE=redis RATE=2000 TOTAL=1500000 bash benches/load/soak.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh
TOTAL=${TOTAL:-10000000}
CONNS=${CONNS:-16}
RATE=${RATE:-}
STORE=${STORE:-embedded}
REDIS_PORT=${REDIS_PORT:-6390}
OUT=target/load
WORK=$(mktemp -d /tmp/kotori-soak.XXXXXX)
BIN=target/release
mkdir -p "$OUT"
cargo build --release -q -p kotori-benches --bin soak
cargo build --release -q -p example-dating
port=9301
redis_env=()
sampler=""
own_redis=""
cleanup() {
  kill $(pgrep -f "$BIN/example-dating serve" -n) 2>/dev/null || true
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  [ -n "$own_redis" ] && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
case "$STORE" in
  embedded) ;;
  redis)
    command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install redis-server" >&2; exit 1; }
    # Never another Redis (the machine's own, say): it would be measured, then shut down.
    if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
      echo "a Redis already answers on $REDIS_PORT: choose a free REDIS_PORT" >&2; exit 1
    fi
    taskset -c 1 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$WORK" --daemonize yes --logfile "$WORK/redis.log"
    own_redis=1
    for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG \
      || { echo "redis-server did not start on $REDIS_PORT (port taken?): $WORK/redis.log" >&2; cat "$WORK/redis.log" >&2; exit 1; }
    redis_env=(REDIS_URL="redis://127.0.0.1:$REDIS_PORT" REDIS_PREFIX="soak:")
    ;;
  *) echo "STORE is embedded or redis" >&2; exit 2;;
esac
(cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="sqlite://$WORK/dating.sqlite?mode=rwc" \
   SIGNING_WINDOW_SECS=60 RUST_LOG=warn "${redis_env[@]}" taskset -c 0 "$OLDPWD/$BIN/example-dating" serve) > "$WORK/server.log" 2>&1 &
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
pid=$(pgrep -f "$BIN/example-dating serve" -n)
token=$(login "$port" "18922986865")
if [ "$STORE" = redis ]; then
  # DBSIZE is exact and cheap: this Redis holds the app's keys only.
  (started=$(date +%s); while sleep 10; do
     printf '%s\t%s\n' $(($(date +%s) - started)) "$(redis-cli -p "$REDIS_PORT" dbsize)"
   done) > "$OUT/soak-keys.tsv" &
  sampler=$!
fi
taskset -c 1 "$BIN/soak" "127.0.0.1:$port" "$token" "$TOTAL" "$CONNS" "$pid" $RATE | tee "$OUT/soak.jsonl"
