#!/usr/bin/env bash
# The server's instructions per signed GET /api/me, counted by callgrind: exact where CPU time
# on a shared 2-core machine drifts by tens of percent between runs. Two builds (OLD_BIN and
# NEW_BIN, both release) serve the same embedded database (SQLite file + in-process store, 10,000
# demo users); each is started under callgrind twice, sent N1 then N2 requests one after
# another on one connection, and (I(N2) - I(N1)) / (N2 - N1) is its cost of one request — start-up
# and the background tasks cancel out.
#
#   OLD_BIN=/var/tmp/kotori-interleaved-old-target/release/example-dating bash benches/load/me-instructions.sh
#
# PATHS (GET paths, `/api/me` unless given) may name `{shown}`: someone the caller may see, for
# a profile page — PATHS=/api/users/{shown}/show (a repeat visit after the first).
set -euo pipefail
cd "$(dirname "$0")/../.."
. benches/load/common.sh

command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
OLD_BIN=${OLD_BIN:?the earlier build: OLD_BIN=path/to/example-dating}
NEW_BIN=${NEW_BIN:-$PWD/target/release/example-dating}
BIN=$PWD/target/release
# 2,000 requests apart: with 300, two rounds of one build differed by 5,000 instructions a request
# on a 2-core VM (the background tasks' share does not cancel out exactly); with 2,000, by 180-370.
N1=${N1:-200}
N2=${N2:-2200}
PATHS=${PATHS:-/api/me}
WORK=$(mktemp -d /tmp/kotori-me-instructions.XXXXXX)
server_pid=""
trap clean_up EXIT

cargo build --release -q -p kotori-benches --bin signed-requests
db="sqlite://$WORK/me.sqlite?mode=rwc"
(cd "$WORK" && env DATABASE_URL="$db" RUST_LOG=warn "$NEW_BIN" demo-data --users 10000 > /dev/null 2>&1)
phone=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT phone FROM user_info ORDER BY user_id LIMIT 1").fetchone()[0])' "$WORK/me.sqlite")
# Someone the first user may see (visible to all, not banned, no block either way).
shown=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$WORK/me.sqlite" \
  "SELECT u.user_id FROM user_info u WHERE u.user_id <> (SELECT min(user_id) FROM user_info)
     AND u.authority = 1 AND u.banned = 0 AND u.deleted_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM block b WHERE b.blocker_id = u.user_id OR b.blocked_id = u.user_id)
   ORDER BY u.user_id LIMIT 1")
PATHS=${PATHS//\{shown\}/$shown}

# count BINARY N PATH: the server's total instructions for start-up, a login and N requests.
count() {
  local binary=$1 n=$2 path=$3 port out
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  out="$WORK/callgrind.out"
  rm -f "$out"
  (cd "$WORK" && exec env LISTEN="127.0.0.1:$port" DATABASE_URL="$db" SIGNING_WINDOW_SECS=3600 RUST_LOG=warn \
     valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" serve) > "$WORK/server.log" 2>&1 &
  server_pid=$!
  wait_port "$port" 120
  wait_ready "$port" 120
  local code token
  token=$(login "$port" "$phone")
  "$BIN/signed-requests" "$path" "$token" "$n" > "$WORK/requests.lua"
  python3 - "$port" "$WORK/requests.lua" <<'PY'
import http.client, json, sys
port, script = int(sys.argv[1]), sys.argv[2]
paths = [line.strip().rstrip(",").strip('"') for line in open(script) if line.startswith('  "')]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for p in paths:
    conn.request("GET", p)
    body = conn.getresponse().read()
    if json.loads(body)["code"] != 0:
        sys.exit(f"{p}: {body[:200]}")
PY
  kill -INT "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  awk '/^summary:/ {print $2}' "$out"
}

for path in $PATHS; do
  for which in old new; do
    binary=$OLD_BIN; [ "$which" = new ] && binary=$NEW_BIN
    a=$(count "$binary" "$N1" "$path"); b=$(count "$binary" "$N2" "$path")
    printf '%-28s %-4s %9d instructions/request\n' "$path" "$which" $(( (b - a) / (N2 - N1) ))
  done
done
