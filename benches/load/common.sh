# Helpers the load scripts share (sourced, not run).

# clean_up: what a load script leaves at its exit — its server ($server_pid, when one runs) stopped
# and its scratch directory ($WORK) removed. `server_pid=""; trap clean_up EXIT`.
clean_up() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$WORK"
}

# cpu_ticks PID: the process's user + system time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# redis_local_pid URL: the process id of the Redis at URL when it runs on this machine (its CPU
# can then be read from /proc), else nothing.
redis_local_pid() {
  local pid
  pid=$(redis-cli -u "$1" info server 2>/dev/null | awk -F: '/^process_id:/ {print $2}' | tr -d '\r')
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && echo "$pid"
  return 0
}

# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT (10 s unless given).
wait_port() {
  local tries=$(( ${2:-10} * 10 ))
  for _ in $(seq 1 "$tries"); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on $1" >&2; return 1
}

# wait_ready PORT [SECONDS]: until example-dating on PORT says it is ready (its indexes loaded:
# /readyz 200), 600 s unless given.
wait_ready() {
  local tries=$(( ${2:-600} * 10 ))
  for _ in $(seq 1 "$tries"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz" || true)" = 200 ] && return 0
    sleep 0.1
  done
  echo "not ready on $1" >&2; return 1
}

# login PORT PHONE: a session token for PHONE from example-dating on PORT (an SMS code asked
# for and used; the server must echo codes, as the development app does). Needs $BIN.
login() {
  local code
  code=$("$BIN/example-dating" call POST /api/auth/sendsms "phone=$2" --addr "127.0.0.1:$1" --no-token | awk -F'"' '/"code": "/ {print $4}')
  "$BIN/example-dating" call POST /api/auth/login "phone=$2" "code=$code" --addr "127.0.0.1:$1" --no-token | awk -F'"' '/"token"/ {print $4}'
}

# wrk_row OUTPUT TICKS: "requests/s <tab> p50 <tab> p99 <tab> server CPU µs per request" from a
# `wrk --latency` output and the server's CPU ticks during it; fails (showing the output) when
# wrk saw an answer other than 2xx.
wrk_row() {
  local out=$1 ticks=$2
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; return 1; fi
  local rps p50 p99 total
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  awk -v r="$rps" -v a="$p50" -v b="$p99" -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$total" \
    'BEGIN {printf "%s\t%s\t%s\t%.2f\n", r, a, b, t / hz * 1e6 / n}'
}

# drop_scratch DB PREFIX: drops the PostgreSQL database DB (at $POSTGRES_URL) and every Redis
# key under PREFIX (at $REDIS_URL_FOR_LOAD) — what a load script made, at its exit.
drop_scratch() {
  psql "$POSTGRES_URL/postgres" -qc "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS_URL_FOR_LOAD" --scan --pattern "$2*" | xargs -r -n 500 redis-cli -u "$REDIS_URL_FOR_LOAD" del >/dev/null 2>&1 || true
}
