#!/usr/bin/env bash
# The app's own server CPU per request, this tree against an earlier commit, interleaved on the
# same machine: the two builds take turns (old, new, old, new, ...) on the same data, so drift
# in the machine (heat, other load) falls on both alike. Scenarios (SCENARIOS, "me sendsms"
# unless given): a signed GET /api/me by a logged-in demo user; signed POST /api/auth/sendsms
# with a new phone each time (one client; its own daily limit lifted by configuration, as a
# flood would meet it only at first); and `show`, the same user's signed GET
# /api/users/{id}/show of someone they may see (each a visit: the day's footprint moved).
#
# Backends: the embedded default (SQLite file + in-process store) and PostgreSQL + Redis, each
# with USERS demo users. The server is pinned to core 0, wrk (one thread, CONNS connections) to
# core 1; each turn is a 2 s warm-up and a DURATION run; CPU is the server's own (from /proc),
# not the database's — and, where Redis runs on this machine, Redis's own CPU per request
# beside it (a send costs Redis about as much as the server: on a shared machine the two add
# up). Prints one line per turn and then, per backend and scenario, the medians over ROUNDS
# turns and the ratio new/old.
#
#   OLD=36888fd ROUNDS=3 DURATION=10 bash benches/load/interleaved.sh
#   OLD=36888fd SCENARIOS=show BACKENDS=postgres bash benches/load/interleaved.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
OLD=${OLD:?name the earlier commit: OLD=<rev>}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
SCENARIOS=${SCENARIOS:-me sendsms}
USERS=${USERS:-10000}
BACKENDS=${BACKENDS:-embedded postgres}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
REDIS_URL_FOR_LOAD=${REDIS_URL_FOR_LOAD:-redis://127.0.0.1:6379}
OUT=${OUT:-target/load}
WORK=$(mktemp -d /tmp/kotori-interleaved.XXXXXX)
OLD_TREE=/var/tmp/kotori-interleaved-old
OLD_TARGET=${OLD_TARGET:-/var/tmp/kotori-interleaved-old-target}
BIN=$PWD/target/release
PG_DB=kotori_interleaved_$$
PREFIX=kotori-interleaved-$$:
mkdir -p "$OUT"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  drop_scratch "$PG_DB" "$PREFIX"
  drop_scratch "${PG_DB}_new" "${PREFIX}new:"
  git worktree remove --force "$OLD_TREE" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Both builds, release, each in its own target directory (the old one kept between runs).
cargo build --release -q -p example-dating
cargo build --release -q -p kotori-benches --bin signed-requests
git worktree remove --force "$OLD_TREE" 2>/dev/null || true
git worktree add -q --detach "$OLD_TREE" "$OLD"
(cd "$OLD_TREE" && CARGO_TARGET_DIR=$OLD_TARGET cargo build --release -q -p example-dating)
declare -A build=([old]="$OLD_TARGET/release/example-dating" [new]="$BIN/example-dating")

# turn BUILD SCENARIO: starts BUILD on the backend's data, measures SCENARIO, stops it.
turn() {
  local which=$1 scenario=$2 port=$3
  # Each build on its own copy of the same data: the new one migrates its copy forward, and a
  # database a newer build migrated is one an older build refuses to start on.
  local url=${db_of[$which]}
  local stores=("${store_env[@]}")
  [ "$which" = new ] && [ ${#stores[@]} -gt 0 ] && stores=(REDIS_URL="$REDIS_URL_FOR_LOAD" REDIS_PREFIX="${PREFIX}new:")
  (cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="$url" "${stores[@]}" \
     SIGNING_WINDOW_SECS=3600 SMS_PER_CLIENT_DAILY=100000000 RUST_LOG=warn \
     taskset -c 0 "${build[$which]}" serve) > "$WORK/server-$port.log" 2>&1 &
  server_pid=$!
  wait_port "$port" 60
  wait_ready "$port" 600
  local script="$WORK/$scenario.lua"
  case $scenario in
    me|show)
      local code token path=/api/me
      [ "$scenario" = show ] && path=/api/users/$shown/show
      token=$(login "$port" "$phone")
      [ -n "$token" ] || { echo "no token for $phone" >&2; cat "$WORK/server-$port.log" >&2; exit 1; }
      # Enough signed requests that a fast build's run never wraps around into replays (40103).
      # The phone may send again next turn: forget its one-a-minute window.
      forget_sms_windows
      sign() { "$BIN/signed-requests" "$path" "$token" 400000 > "$script"; } ;;
    sendsms)
      # Sends are cheap: enough signed ones that a run never wraps around into replays.
      sign() { "$BIN/signed-requests" /api/auth/sendsms - 600000 sendsms > "$script"; } ;;
  esac
  sign
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s -s "$script" "http://127.0.0.1:$port" > /dev/null
  sign
  local before after out row
  before=$(cpu_ticks "$server_pid")
  local redis_pid="" redis_before=0 redis_after=0
  if [ "$backend" = postgres ]; then
    redis_pid=$(redis_local_pid "$REDIS_URL_FOR_LOAD")
    [ -n "$redis_pid" ] && redis_before=$(cpu_ticks "$redis_pid")
  fi
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$script" "http://127.0.0.1:$port")
  after=$(cpu_ticks "$server_pid")
  [ -n "$redis_pid" ] && redis_after=$(cpu_ticks "$redis_pid")
  row=$(wrk_row "$out" $((after - before))) || { echo "$which $scenario: non-2xx answers" >&2; exit 1; }
  local redis_us=-
  if [ -n "$redis_pid" ]; then
    redis_us=$(echo "$out" | awk -v t=$((redis_after - redis_before)) -v hz="$(getconf CLK_TCK)" \
      '/requests in/ {printf "%.2f", t / hz * 1e6 / $1}')
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$backend" "$scenario" "$which" "$row" "$redis_us" | tee -a "$WORK/turns.tsv"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  # The sends of this turn filled the SMS keys: the next turn starts from an empty store.
  forget_sms_windows
}

# Clears the SMS counters and codes the turns left (the per-phone minute windows above all).
forget_sms_windows() {
  case $backend in
    postgres)
      for p in "${PREFIX}sms:*" "${PREFIX}new:sms:*"; do
        redis-cli -u "$REDIS_URL_FOR_LOAD" --scan --pattern "$p" | xargs -r -n 500 redis-cli -u "$REDIS_URL_FOR_LOAD" del > /dev/null
      done ;;
    embedded) : ;; # the in-process store goes with its server
  esac
}

: > "$WORK/turns.tsv"
port=9401
for backend in $BACKENDS; do
  case $backend in
    embedded) db_url="sqlite://$WORK/interleaved.sqlite?mode=rwc"; store_env=() ;;
    postgres)
      psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
      db_url="$POSTGRES_URL/$PG_DB"; store_env=(REDIS_URL="$REDIS_URL_FOR_LOAD" REDIS_PREFIX="$PREFIX") ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  # The data made by the old build, then copied for the new one (which migrates its copy).
  (cd "$WORK" && env DATABASE_URL="$db_url" "${store_env[@]}" RUST_LOG=warn "${build[old]}" demo-data --users "$USERS" > /dev/null 2>&1)
  declare -A db_of=([old]="$db_url")
  case $backend in
    embedded) cp "$WORK/interleaved.sqlite" "$WORK/interleaved-new.sqlite"; db_of[new]="sqlite://$WORK/interleaved-new.sqlite?mode=rwc" ;;
    postgres)
      psql "$POSTGRES_URL/postgres" -qc "CREATE DATABASE ${PG_DB}_new TEMPLATE $PG_DB" >/dev/null
      db_of[new]="$POSTGRES_URL/${PG_DB}_new" ;;
  esac
  phone=$(case $backend in
    embedded) python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT phone FROM user_info ORDER BY user_id LIMIT 1").fetchone()[0])' "$WORK/interleaved.sqlite" ;;
    postgres) psql "$POSTGRES_URL/$PG_DB" -Atc "SELECT phone FROM user_info ORDER BY user_id LIMIT 1" ;;
  esac)
  # Someone the first user may see (visible to all, not banned, no block either way).
  visible="SELECT u.user_id FROM user_info u WHERE u.user_id <> (SELECT min(user_id) FROM user_info)
    AND u.authority = 1 AND u.banned = false AND u.deleted_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM block b WHERE b.blocker_id = u.user_id OR b.blocked_id = u.user_id)
    ORDER BY u.user_id LIMIT 1"
  shown=$(case $backend in
    embedded) python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$WORK/interleaved.sqlite" "$visible" ;;
    postgres) psql "$POSTGRES_URL/$PG_DB" -Atc "$visible" ;;
  esac)
  for scenario in $SCENARIOS; do
    for _ in $(seq 1 "$ROUNDS"); do
      for which in old new; do
        turn "$which" "$scenario" "$port"
        port=$((port + 1))
      done
    done
  done
done

python3 - "$WORK/turns.tsv" "$OLD" "$ROUNDS" "$DURATION" "$CONNS" "$USERS" <<'PY' | tee "$OUT/interleaved.txt"
import statistics, sys
path, old, rounds, duration, conns, users = sys.argv[1:]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
print(f"old = {old}; {rounds} interleaved turns each, {duration} s, {conns} connections, {users} demo users")
print("backend\tscenario\tbuild\treq/s (median)\tp99 (median)\tCPU us/req (median)\tRedis CPU us/req (median)")
for backend in dict.fromkeys(r[0] for r in rows):
    for scenario in dict.fromkeys(r[1] for r in rows if r[0] == backend):
        med = {}
        for which in ("old", "new"):
            turns = [r for r in rows if r[0] == backend and r[1] == scenario and r[2] == which]
            rps = statistics.median(float(r[3]) for r in turns)
            cpu = statistics.median(float(r[6]) for r in turns)
            p99 = sorted(r[5] for r in turns)[len(turns) // 2]
            redis = [float(r[7]) for r in turns if r[7] != "-"]
            redis = f"{statistics.median(redis):.1f}" if redis else "-"
            med[which] = (rps, cpu)
            print(f"{backend}\t{scenario}\t{which}\t{rps:.0f}\t{p99}\t{cpu:.1f}\t{redis}")
        print(f"{backend}\t{scenario}\tnew/old\t{med['new'][0] / med['old'][0]:.2f}x\t\t{med['new'][1] / med['old'][1]:.2f}x")
PY
