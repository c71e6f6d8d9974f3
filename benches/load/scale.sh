#!/usr/bin/env bash
# Cost against data size: every list endpoint of example-dating, signed, at 10k, 100k and 1M
# demo users, on the embedded default (SQLite + in-process store) and on PostgreSQL + Redis,
# with GET /api/me as the reference in the same run. The database grows in place (demo-data
# adds users), and one caller — the first VIP with contacts and visitors at the first size —
# is measured at every size, so what changes is only how many people there are around them.
#
# The server is pinned to core 0, wrk (one thread, CONNS connections) to core 1; each endpoint
# gets a 2 s warm-up and one DURATION run (latency percentiles are wrk's over that run); the
# server's CPU per request is read from /proc (the database server's own CPU is not in it).
# Writes target/load/scale.json; `cargo run -p kotori-benches --bin report` turns it into the
# table and the plot in docs/src/benchmarks.md.
#
# TRICKLE=N (default 5) keeps N registrations a second going beside the measured load, for
# the whole run at each size (login-flow, paced, on core 1 with wrk): people sign up all day,
# and every registration changes what the hot list's total counts.
#
#   SIZES="10000 100000 1000000" BACKENDS="embedded postgres" DURATION=5 bash benches/load/scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
SIZES=${SIZES:-10000 100000 1000000}
BACKENDS=${BACKENDS:-embedded postgres}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
REDIS_URL_FOR_LOAD=${REDIS_URL_FOR_LOAD:-redis://127.0.0.1:6379}
OUT=${OUT:-target/load}
WORK=$(mktemp -d /tmp/kotori-scale.XXXXXX)
BIN=$PWD/target/release
PG_DB=kotori_scale_$$
PREFIX=kotori-scale-$$:
mkdir -p "$OUT"
: > "$OUT/scale.tsv"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  drop_scratch "$PG_DB" "$PREFIX"
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p kotori-benches --bin signed-requests --bin login-flow
TRICKLE=${TRICKLE:-5}
cargo build --release -q -p example-dating


# sql QUERY: one value from the backend's database.
sql() {
  case $backend in
    embedded) python3 -c 'import sqlite3, sys; r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$WORK/scale.sqlite" "$1" ;;
    postgres) psql "$POSTGRES_URL/$PG_DB" -Atc "$1" ;;
  esac
}

# measure ENDPOINT URL [wrk args...]: a warm-up, one run, a row in scale.tsv.
measure() {
  local endpoint=$1 url=$2; shift 2
  ${BEFORE_EACH:-true}
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s "$@" "$url" > /dev/null
  ${BEFORE_EACH:-true}
  local before after out row
  before=$(cpu_ticks "$server_pid")
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url")
  after=$(cpu_ticks "$server_pid")
  row=$(wrk_row "$out" $((after - before))) || { echo "$endpoint: non-2xx answers" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\n' "$backend" "$size" "$endpoint" "$row" | tee -a "$OUT/scale.tsv"
}

# Signed GETs of PATH by the caller, fresh for every wrk run (a signed request is sent once).
signed() { # ENDPOINT PATH
  local path=$2
  sign() { "$BIN/signed-requests" "$path" "$token" "${SIGNED:-400000}" > "$WORK/signed.lua"; }
  BEFORE_EACH=sign measure "$1" "http://127.0.0.1:$port" -s "$WORK/signed.lua"
}

port=9301
for backend in $BACKENDS; do
  case $backend in
    embedded) db_url="sqlite://$WORK/scale.sqlite?mode=rwc"; store_env=() ;;
    postgres)
      psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
      db_url="$POSTGRES_URL/$PG_DB"; store_env=(REDIS_URL="$REDIS_URL_FOR_LOAD" REDIS_PREFIX="$PREFIX") ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  have=0 caller="" 
  for size in $SIZES; do
    started=$(date +%s)
    (cd "$WORK" && env DATABASE_URL="$db_url" "${store_env[@]}" RUST_LOG=warn "$BIN/example-dating" demo-data --users $((size - have)) > /dev/null 2>&1)
    echo "# $backend: filled to $size users in $(( $(date +%s) - started )) s" >&2
    have=$size
    (cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="$db_url" "${store_env[@]}" \
       SIGNING_WINDOW_SECS=3600 SMS_PER_CLIENT_DAILY=100000000 RUST_LOG=warn \
       taskset -c 0 "$BIN/example-dating" serve) > "$WORK/server-$port.log" 2>&1 &
    server_pid=$!
    started=$(date +%s.%N)
    wait_port $port 600
    listening=$(date +%s.%N)
    # It listens at once; the indexes load in the background.
    wait_ready $port 600
    ready=$(date +%s.%N)
    rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server_pid/status")
    awk -v s="$started" -v l="$listening" -v r="$ready" -v m="$rss" -v b="$backend" -v n="$size" \
      'BEGIN {printf "# %s at %d users: listening after %.1f s, ready after %.1f s, %d MB resident\n", b, n, l - s, r - s, m}' >&2
    if [ -z "$caller" ]; then
      caller=$(sql "SELECT u.user_id FROM user_info u JOIN vip_info v ON v.user_id = u.user_id
        WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = u.user_id)
          AND EXISTS (SELECT 1 FROM visitor x WHERE x.viewed_id = u.user_id)
        ORDER BY u.user_id LIMIT 1")
      phone=$(sql "SELECT phone FROM user_info WHERE user_id = $caller")
      peer=$(sql "SELECT peer_id FROM contacts WHERE user_id = $caller ORDER BY id LIMIT 1")
      # Someone the caller may see (visible to all, not banned), for the profile page.
      shown=$(sql "SELECT c.peer_id FROM contacts c JOIN user_info u ON u.user_id = c.peer_id
        WHERE c.user_id = $caller AND u.authority = 1 AND u.banned = false
          AND NOT EXISTS (SELECT 1 FROM block b WHERE (b.blocker_id = $caller AND b.blocked_id = c.peer_id)
                                                   OR (b.blocker_id = c.peer_id AND b.blocked_id = $caller))
        ORDER BY c.id LIMIT 1")
      # Demo data is random: when none of the caller's contacts may be seen, anyone who may.
      [ -n "$shown" ] || shown=$(sql "SELECT u.user_id FROM user_info u WHERE u.user_id <> $caller
        AND u.authority = 1 AND u.banned = false
        AND NOT EXISTS (SELECT 1 FROM block b WHERE (b.blocker_id = $caller AND b.blocked_id = u.user_id)
                                                 OR (b.blocker_id = u.user_id AND b.blocked_id = $caller))
        ORDER BY u.user_id LIMIT 1")
      [ -n "$shown" ] || { echo "no one the caller may see" >&2; exit 1; }
      printf 'password-123\n' | env DATABASE_URL="$db_url" RUST_LOG=warn "$BIN/example-dating" operator add \
        --name scale --role admin --privileges users:read,orders:read > /dev/null
    fi
    token=$(login "$port" "$phone")
    admin=$(curl -s -d name=scale -d password=password-123 "http://127.0.0.1:$port/manage/login.json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["token"])')

    trickle_pid=""
    if [ "$TRICKLE" != 0 ]; then
      taskset -c 1 "$BIN/login-flow" "127.0.0.1:$port" 100000 1 "$TRICKLE" > "$WORK/trickle.json" 2>&1 &
      trickle_pid=$!
    fi
    signed "GET /api/me (reference)" /api/me
    signed "hot list" /api/user/hot/list
    signed "nearby" /api/user/nearby/list
    signed "contacts" /api/contacts
    signed "visitors (VIP)" /api/vip/visitors
    signed "message history" "/api/users/$peer/messages"
    signed "profile (show)" "/api/users/$shown/show"
    signed "live list" /api/live/list
    manage="http://127.0.0.1:$port/manage/dating/admin/api"
    BEFORE_EACH=true measure "admin user search" "$manage/users/search.json?q=Ming000&page=1&pageCount=20" -H "Authorization: Bearer $admin"
    BEFORE_EACH=true measure "admin orders" "$manage/orders/list.json?page=1&pageCount=20" -H "Authorization: Bearer $admin"
    [ -n "$trickle_pid" ] && { kill "$trickle_pid" 2>/dev/null || true; wait "$trickle_pid" 2>/dev/null || true; }
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    port=$((port + 1))
  done
done

TRICKLE="$TRICKLE" python3 - "$OUT" "$DURATION" "$CONNS" <<'PY'
import json, sys
out, duration, conns = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for line in open(f"{out}/scale.tsv"):
    b, n, e, rps, p50, p99, cpu = line.rstrip("\n").split("\t")
    rows.append({"backend": b, "users": int(n), "endpoint": e, "rps": float(rps), "p50": p50, "p99": p99, "cpu_us": float(cpu)})
trickle = __import__("os").environ.get("TRICKLE", "5")
setup = (f"example-dating pinned to core 0, wrk (one thread, {conns} connections) to core 1; a 2 s warm-up, "
         f"then one {duration} s run per endpoint; signed requests by one demo user (the first VIP with contacts "
         "and visitors), the same at every size; CPU is the app's own per request (not the database's); "
         f"{trickle} registrations a second going on throughout.")
json.dump({"setup": setup, "rows": rows}, open(f"{out}/scale.json", "w"), indent=2)
print(f"wrote {out}/scale.json")
PY
