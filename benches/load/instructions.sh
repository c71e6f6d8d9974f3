#!/usr/bin/env bash
# Instructions per request, by callgrind: exact and repeatable, whatever else the machine does.
# For each case and contender, runs N=1000 and N=2000 dispatches and divides the difference.
# Writes target/criterion/instructions.json (read by the report).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
cargo build --release -q -p kotori-benches --bin instructions
BIN=target/release/instructions
count() { # case who n
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$1" "$2" "$3" 2>&1 | awk '/Collected :/ {print $4}'
  rm -f "$out"
}
echo "{" > target/criterion/instructions.json.tmp
first=1
for case in ${CASES:-chain-1 chain-4 chain-8 routes-10 routes-10000 loader reject not-found}; do
  for who in floor kotori axum; do
    a=$(count "$case" "$who" 1000); b=$(count "$case" "$who" 2000)
    per=$(( (b - a) / 1000 ))
    printf '%-14s %-7s %8d instructions/request\n' "$case" "$who" "$per"
    [ $first -eq 1 ] || echo "," >> target/criterion/instructions.json.tmp
    first=0
    printf '  "%s/%s": %d' "$case" "$who" "$per" >> target/criterion/instructions.json.tmp
  done
done
printf '\n}\n' >> target/criterion/instructions.json.tmp
mv target/criterion/instructions.json.tmp target/criterion/instructions.json
