#!/usr/bin/env bash
# Benchmark of `kamei deid` (issue 4): the users table as cn_contractor versus the same binary
# copying the same file through the same reader and writer with no transform (--plain-copy).
#
#   bench/deid.sh [USERS] [WORKDIR]     defaults: 10000000 users, /tmp/kamei-bench-deid
#
# Builds the release binary, generates the demo world once (kept in WORKDIR for re-runs), then
# times each run three times and prints the best wall time, rows/s and the ratio.
set -euo pipefail
USERS=${1:-10000000}
WORK=${2:-/tmp/kamei-bench-deid}
cd "$(dirname "$0")/.."
cargo build --release -p kamei >&2
K=$PWD/target/release/kamei
mkdir -p "$WORK"
DATA=$WORK/demo-$USERS
if [ ! -f "$DATA/users.parquet" ]; then
  rm -rf "$DATA"
  /usr/bin/time -f "generate: %e s" "$K" generate --out "$DATA" --users "$USERS" --seed 1 >&2
fi
best() { # prints the best of three wall times of "$@", in seconds
  local b=""
  for _ in 1 2 3; do
    local s e t
    s=$(date +%s.%N); "$@" 2>/dev/null; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if [ -z "$b" ] || (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  echo "$b"
}
for fmt in parquet; do
  OUT=$WORK/out.$fmt
  t_deid=$(best "$K" deid --as cn_contractor --table users --in "$DATA/users.parquet" --out "$OUT")
  t_copy=$(best "$K" deid --as cn_contractor --table users --in "$DATA/users.parquet" --out "$OUT" --plain-copy)
  cores=$(nproc)
  printf 'users=%s format=%s cores=%s\n' "$USERS" "$fmt" "$cores"
  printf 'deid cn_contractor: %.2f s  %.0f rows/s  %.0f rows/s/core\n' "$t_deid" \
    "$(echo "$USERS / $t_deid" | bc -l)" "$(echo "$USERS / $t_deid / $cores" | bc -l)"
  printf 'plain copy:         %.2f s  %.0f rows/s\n' "$t_copy" "$(echo "$USERS / $t_copy" | bc -l)"
  printf 'ratio deid / copy:  %.2f\n' "$(echo "$t_deid / $t_copy" | bc -l)"
done
