#!/usr/bin/env bash
# Instructions per request, by callgrind: exact and repeatable, whatever else the machine does.
# For each case and contender, runs N=1000 and N=2000 dispatches and divides the difference.
# kotori is counted twice: as built by default (no `metrics` feature: `kotori`) and with its
# measurements on (`kotori-metrics`). Writes target/criterion/instructions.json (read by the
# report).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
# Without example-dating (which turns kotori's metrics on), then with the metrics feature.
cargo build --release -q -p kotori-benches --no-default-features --bin instructions
cp target/release/instructions target/release/instructions-plain
cargo build --release -q -p kotori-benches --no-default-features --features metrics --bin instructions
cp target/release/instructions target/release/instructions-metrics
count() { # case who n
  local out bin=target/release/instructions-plain who=$2; out=$(mktemp)
  if [ "$who" = kotori-metrics ]; then bin=target/release/instructions-metrics; who=kotori; fi
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$who" "$3" 2>&1 | awk '/Collected :/ {print $4}'
  rm -f "$out"
}
mkdir -p target/criterion
echo "{" > target/criterion/instructions.json.tmp
first=1
for case in ${CASES:-chain-1 chain-4 chain-8 routes-10 routes-10000 loader reject not-found}; do
  for who in floor kotori kotori-metrics axum; do
    a=$(count "$case" "$who" 1000); b=$(count "$case" "$who" 2000)
    per=$(( (b - a) / 1000 ))
    printf '%-14s %-7s %8d instructions/request\n' "$case" "$who" "$per"
    [ $first -eq 1 ] || echo "," >> target/criterion/instructions.json.tmp
    first=0
    printf '  "%s/%s": %d' "$case" "$who" "$per" >> target/criterion/instructions.json.tmp
  done
done
printf '\n}\n' >> target/criterion/instructions.json.tmp
# Allocations per kotori dispatch, metrics off and on (exact counts, no valgrind needed).
cargo build --release -q -p kotori-benches --no-default-features --bin allocations
echo "allocations, metrics off:"; target/release/allocations
cargo build --release -q -p kotori-benches --no-default-features --features metrics --bin allocations
echo "allocations, metrics on:"; target/release/allocations
mv target/criterion/instructions.json.tmp target/criterion/instructions.json
