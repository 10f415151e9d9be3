#!/usr/bin/env bash
# The gateway's three targets (issue 15), side by side in one run, through `kamei serve` and
# real clients (psql, pgbench), every statement durably audited:
#   1. guard cost: a full scan of 1,000,000 users to a client as cn_contractor (every personal
#      column transformed) against the same scan as admin (raw), rows per second;
#   2. statements: 64 connections running a prepared point query on a small table, statements
#      per second with p50 and p99 latency, beside the audit log's own 64-writer append bench;
#   3. 100 sessions for a bounded run: errors and the server's resident memory.
# Usage: bench/gateway.sh [USERS] [SECONDS]   (defaults 1000000 and 20)
# Worlds are generated under target/bench-gateway (kept between runs); logs go to a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
users=${1:-1000000}
seconds=${2:-20}
small_users=1000
work=target/bench-gateway
tmp=$(mktemp -d)
server=
stop_server() {
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

cargo build --release --locked -p kamei -q
kamei=target/release/kamei
mkdir -p "$work"
for n in "$users" "$small_users"; do
  [ -f "$work/world-$n/users.parquet" ] || "$kamei" generate --users "$n" --out "$work/world-$n"
done

# Starts `kamei serve` over a world and waits until it accepts connections.
start_server() {
  local world=$1
  port=$(free_port)
  rm -rf "$tmp/audit"
  "$kamei" serve --data "$world" --listen "127.0.0.1:$port" --audit-log "$tmp/audit" \
    --max-connections 256 2> "$tmp/serve.log" &
  server=$!
  wait_for_kamei "$port" "$server" "$tmp/serve.log"
}

rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
peak_mib() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ)"

# 1. Guard cost. The same columns for both: those cn_contractor may read (my_number is denied
#    to it everywhere). Alternating rounds, so drift in the host hits both.
start_server "$work/world-$users"
echo "== 1. full scan of $users users to psql (server RSS after load $(rss_mib) MiB)"
columns=$(PGPASSWORD=cn_contractor-demo psql -X -qAt -h 127.0.0.1 -p "$port" -U cn_contractor -d kamei \
  -c "SELECT string_agg(column_name, ', ') FROM information_schema.columns WHERE table_name = 'users'")
for round in 1 2 3; do
  for who in admin cn_contractor; do
    for how in COPY SELECT; do
      if [ "$how" = COPY ]; then sql="COPY (SELECT $columns FROM users) TO STDOUT"; else sql="SELECT $columns FROM users"; fi
      start=$(date +%s.%N)
      rows=$(PGPASSWORD=$who-demo psql -X -qAt -h 127.0.0.1 -p "$port" -U "$who" -d kamei -c "$sql" | wc -l)
      end=$(date +%s.%N)
      python3 -c "import sys; r, s = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'round $round  $who  $how  {r} rows in {s:.2f} s: {r / s:,.0f} rows/s')" "$rows" "$start" "$end"
    done
  done
done
echo "server peak RSS $(peak_mib) MiB"
stop_server

# 2. and 3. A small world: a prepared point query on users by key, as jp_support (raw for JP
#    users, pseudonyms elsewhere: both paths of the guard), through pgbench -M prepared.
start_server "$work/world-$small_users"
ids=$(PGPASSWORD=admin-demo psql -X -qAt -h 127.0.0.1 -p "$port" -U admin -d kamei -c "SELECT min(user_id), max(user_id), count(*) FROM users")
echo "== 2. prepared point queries, users of a $small_users-user world (user_id min|max|count: $ids); server RSS $(rss_mib) MiB"
lo=${ids%%|*}; rest=${ids#*|}; hi=${rest%%|*}
cat > "$tmp/point.sql" <<SQL
\set id random($lo, $hi)
SELECT user_id, phone, email, country FROM users WHERE user_id = :id;
SQL
bench() {
  local clients=$1 label=$2
  mkdir -p "$tmp/$label" && rm -f "$tmp/$label"/*
  local before
  before=$(find "$tmp/audit" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  (cd "$tmp/$label" && PGPASSWORD=jp_support-demo pgbench -n -M prepared -c "$clients" -j 2 -T "$seconds" \
    -l -f "$tmp/point.sql" -h 127.0.0.1 -p "$port" -U jp_support kamei > out.txt 2>&1) || { cat "$tmp/$label/out.txt"; exit 1; }
  grep -E "^(number of (transactions actually processed|failed transactions)|tps|latency average)" "$tmp/$label/out.txt"
  cat "$tmp/$label"/pgbench_log.* | python3 -c '
import sys
lat = sorted(int(l.split()[2]) for l in sys.stdin)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000
print(f"latency p50 {q(0.50):.2f} ms, p99 {q(0.99):.2f} ms, max {lat[-1] / 1000:.2f} ms over {len(lat):,} statements")'
  echo "audit log grew by $(( ($(find "$tmp/audit" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}') - before) / 1048576 )) MiB; server RSS now $(rss_mib) MiB, peak $(peak_mib) MiB"
}
bench 64 c64
echo "== 3. 100 sessions for $seconds s"
bench 100 c100
stop_server
"$kamei" audit verify --log "$tmp/audit" | tail -1

echo "== the audit log alone, 64 writers (same run; durable appends)"
KAMEI_AUDIT_BENCH_ONLY=appends cargo bench --locked -q -p kamei-audit --bench audit 2>&1 | grep -E "writers|writer" || true
