#!/usr/bin/env bash
# Load tests over loopback. Each server is pinned to core 0 and the load generator to core 1;
# every measurement is a warm-up then three runs, of which the median (by requests/s) is kept,
# with the server's CPU time per request read from /proc. Writes target/load/results.json;
# then `cargo run -p kotori-benches --bin report` puts it in docs/src/benchmarks.md.
#
# Scenarios: the guarded hello (kotori, axum, bare hyper), a signed GET /api/user/hot/list on
# 10,000 demo users (example-dating on SQLite with the in-process store, then with Redis), and
# the SMS login flow.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
REDIS_URL_FOR_LOAD=${REDIS_URL_FOR_LOAD:-redis://127.0.0.1:6379}
OUT=${OUT:-target/load}
WORK=$(mktemp -d /tmp/kotori-load.XXXXXX)
BIN=target/release
CLK_TCK=$(getconf CLK_TCK)
SCENARIOS=${SCENARIOS:-hello dating}
mkdir -p "$OUT"
# A partial run (SCENARIOS=dating) keeps the rows of the scenarios it does not repeat.
touch "$OUT/rows.tsv"
case " $SCENARIOS " in *" hello "*) sed -i '/^guarded hello/d' "$OUT/rows.tsv";; esac
case " $SCENARIOS " in *" dating "*) sed -i '/^signed GET/d; /^login flow/d' "$OUT/rows.tsv";; esac
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
  # The Redis scenario's keys live under a prefix of this run: leave Redis as it was.
  if command -v redis-cli > /dev/null; then
    redis-cli -u "$REDIS_URL_FOR_LOAD" --scan --pattern "kotori-load-$$:*" | xargs -r -n 500 redis-cli -u "$REDIS_URL_FOR_LOAD" del > /dev/null || true
  fi
}
trap cleanup EXIT

# The hello servers as kotori is built by default (no metrics; example-dating would turn them
# on), then with the metrics feature: the same server measured both ways.
cargo build --release -q -p kotori-benches --no-default-features --bin hello
cp "$BIN/hello" "$BIN/hello-plain"
cargo build --release -q -p kotori-benches --no-default-features --features metrics --bin hello
cp "$BIN/hello" "$BIN/hello-metrics"
cargo build --release -q -p kotori-benches --bin signed-requests --bin login-flow
cargo build --release -q -p example-dating

. benches/load/common.sh

# measure SCENARIO SERVER PID URL [wrk args...]: warm-up, three runs, median row appended.
measure() {
  local scenario=$1 server=$2 pid=$3 url=$4; shift 4
  # BEFORE_EACH (optional) runs before every wrk: fresh pre-signed requests, since a wrk run
  # restarts its script and a signed request replayed is refused (40103), as it should be.
  ${BEFORE_EACH:-true}
  taskset -c 1 wrk -t1 -c"$CONNS" -d3s "$@" "$url" > /dev/null
  local runs=()
  for i in 1 2 3; do
    local before after out row
    ${BEFORE_EACH:-true}
    before=$(cpu_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url")
    after=$(cpu_ticks "$pid")
    row=$(wrk_row "$out" $((after - before))) || { echo "$scenario/$server: non-2xx answers" >&2; exit 1; }
    runs+=("$row")
  done
  printf '%s\n' "${runs[@]}" | sort -n -k1 | sed -n 2p | awk -v s="$scenario" -v v="$server" '{print s "\t" v "\t" $0}' >> "$OUT/rows.tsv"
  tail -n 1 "$OUT/rows.tsv"
}

# 1. The guarded hello: four guards (kotori, axum) and the physical floor (hyper, no guards);
# kotori also with its metrics on (`kotori+metrics`).
port=9101
for server in $(case " $SCENARIOS " in *" hello "*) echo kotori kotori+metrics axum hyper;; esac); do
  binary="$BIN/hello-plain" kind=$server
  [ "$server" = kotori+metrics ] && binary="$BIN/hello-metrics" kind=kotori
  taskset -c 0 "$binary" "$kind" "127.0.0.1:$port" 2> /dev/null &
  pid=$!; pids+=("$pid"); wait_port $port
  measure "guarded hello" "$server" "$pid" "http://127.0.0.1:$port/l0/l1/l2/l3/hello" -H "x-token: t"
  kill "$pid"; port=$((port + 1))
done

# 2. example-dating: a signed hot list on demo data, then the login flow.
dating() { # STORE PORT: starts example-dating in $WORK, prints its pid
  local store=$1 port=$2
  # The subshell's own output goes to the log too: `$(dating ...)` waits for every holder
  # of its stdout, and a server holds it until it exits.
  (cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="sqlite://$WORK/dating.sqlite?mode=rwc" \
     SIGNING_WINDOW_SECS=3600 SMS_PER_CLIENT_DAILY=100000000 RUST_LOG=warn \
     ${store:+REDIS_URL=$store REDIS_PREFIX=kotori-load-$$:} \
     taskset -c 0 "$OLDPWD/$BIN/example-dating" serve) > "$WORK/server-$port.log" 2>&1 &
  echo $!
}
case " $SCENARIOS " in *" dating "*) run_dating=1;; *) run_dating=0;; esac
[ $run_dating = 1 ] && (cd "$WORK" && DATABASE_URL="sqlite://$WORK/dating.sqlite?mode=rwc" "$OLDPWD/$BIN/example-dating" demo-data --users 10000 > /dev/null 2>&1)

port=9201
for store in $([ $run_dating = 1 ] && echo '-' "$REDIS_URL_FOR_LOAD"); do
  [ "$store" = "-" ] && store=""
  label=$([ -z "$store" ] && echo "example-dating, SQLite + in-process store" || echo "example-dating, SQLite + Redis")
  pid=$(dating "$store" $port); pids+=("$pid"); wait_port $port; wait_ready $port
  server_pid=$(pgrep -f "$BIN/example-dating serve" -n)
  token=$(login "$port" "18922986865")
  sign_hot() { "$BIN/signed-requests" /api/user/hot/list "$token" "${SIGNED:-$((DURATION * 10000))}" > "$WORK/hot.lua"; }
  BEFORE_EACH=sign_hot measure "signed GET /api/user/hot/list" "$label" "$server_pid" "http://127.0.0.1:$port" -s "$WORK/hot.lua"

  # The login flow: sendsms then login, by a Rust driver (wrk cannot sign with the code).
  before=$(cpu_ticks "$server_pid")
  flow=$(taskset -c 1 "$BIN/login-flow" "127.0.0.1:$port" "$DURATION" 16)
  after=$(cpu_ticks "$server_pid")
  echo "$flow" | awk -v s="login flow (sendsms + login), 16 clients" -v v="$label" -v t="$((after - before))" -v hz="$CLK_TCK" -F'[,:}]' \
    '{for (i = 1; i < NF; i++) {if ($i ~ /"flows"/) n = $(i+1); if ($i ~ /flows_per_sec/) r = $(i+1); if ($i ~ /p50_ms/) a = $(i+1); if ($i ~ /p99_ms/) b = $(i+1)}
      printf "%s\t%s\t%.1f\t%.2fms\t%.2fms\t%.2f\n", s, v, r, a, b, t / hz * 1e6 / (2 * n)}' >> "$OUT/rows.tsv"
  tail -n 1 "$OUT/rows.tsv"
  kill "$server_pid" 2>/dev/null || true; port=$((port + 1))
done

python3 - "$OUT" "$DURATION" "$CONNS" <<'PY'
import json, sys
out, duration, conns = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for line in open(f"{out}/rows.tsv"):
    s, v, rps, p50, p99, cpu = line.rstrip("\n").split("\t")
    rows.append({"scenario": s, "server": v, "rps": float(rps), "p50": p50, "p99": p99, "cpu_us": float(cpu)})
setup = (f"Server pinned to core 0, wrk (one thread, {conns} connections) or the login driver pinned to core 1; "
         f"a 3 s warm-up, then the median of three {duration} s runs. Login-flow rows count flows per second "
         "(two requests each) and CPU per request.")
json.dump({"setup": setup, "rows": rows}, open(f"{out}/results.json", "w"), indent=2)
print(f"wrote {out}/results.json")
PY
