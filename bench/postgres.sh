#!/usr/bin/env bash
# PostgreSQL behind kamei (issue 16), side by side in one run, on one PostgreSQL server and
# one copy of the demo world:
#   1. point lookups, prepared (pgbench -M prepared), 1 client, 10,000 statements each:
#      `SELECT phone FROM users WHERE user_id = $1` straight to PostgreSQL, through PgBouncer
#      (session pooling) and through kamei, as jp_support on Japanese users (phone read raw)
#      and as cn_contractor by its code of a user (phone pseudonymized; the lookup becomes one
#      on the stored key); p50 and p99 from pgbench's per-statement log. Every kamei statement
#      is durably audited.
#   2. the same lookups from 64 clients for SECONDS: statements per second.
#   3. a full scan of every user as cn_contractor to psql (COPY (SELECT …) TO STDOUT through
#      kamei) against `COPY users TO STDOUT` straight from PostgreSQL, rows per second.
#   4. kamei's resident memory over a full scan of at least 10,000,000 rows (the world's
#      messages, copied until there are that many).
# Usage: bench/postgres.sh [USERS] [SECONDS]   (defaults 1000000 and 20)
# The world is generated under target/bench-postgres (kept between runs); the server, PgBouncer
# and the audit log live in temporary directories removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
users=${1:-1000000}
seconds=${2:-20}
work=target/bench-postgres
world=$work/world-$users
tmp=$(mktemp -d)
pg=$(mktemp -d)
kamei_pid=
stop_kamei() {
  if [ -n "$kamei_pid" ]; then
    kill -TERM "$kamei_pid" 2>/dev/null || true
    wait "$kamei_pid" 2>/dev/null || true
    kamei_pid=
  fi
}
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  stop_kamei
  [ -f "$pg/pgbouncer.pid" ] && kill "$(cat "$pg/pgbouncer.pid")" 2>/dev/null || true
  scripts/postgres stop "$pg" >/dev/null 2>&1 || true
  rm -rf "$tmp" "$pg"
}
trap cleanup EXIT

command -v pgbench >/dev/null || { echo "bench/postgres.sh: needs pgbench (apt-get install postgresql-contrib)" >&2; exit 1; }
command -v pgbouncer >/dev/null || { echo "bench/postgres.sh: needs PgBouncer (apt-get install pgbouncer)" >&2; exit 1; }
cargo build --release --locked -p kamei -q
kamei=$PWD/target/release/kamei
mkdir -p "$work"
[ -f "$world/load.sql" ] || "$kamei" generate --format csv --users "$users" --out "$world"

# PostgreSQL (scripts/postgres: loopback, SCRAM), the world loaded into database `bench`.
url=$(scripts/postgres start "$pg")
password=$(cat "$pg/password")
pgport=${url##*:}; pgport=${pgport%%/*}
export PGPASSWORD=$password
direct() { psql -X -qAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U kamei -d bench "$@"; }
psql -X -q -h 127.0.0.1 -p "$pgport" -U kamei -d postgres -c "CREATE DATABASE bench"
(cd "$world" && psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U kamei -d bench -f load.sql)
direct -c "VACUUM ANALYZE"

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); commit $(git rev-parse --short HEAD); $(date -u +%FT%TZ)"
echo "== $(psql --version | head -1), $(pgbouncer --version | head -1); world: $(direct -c "SELECT count(*) FROM users") users, $(direct -c "SELECT count(*) FROM messages") messages"

# PgBouncer in front of the same database (session pooling: pgbench's prepared statements).
bport=$(free_port)
cat > "$pg/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$pgport dbname=bench user=kamei password=$password
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $pg/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 70
logfile = $pg/pgbouncer.log
pidfile = $pg/pgbouncer.pid
INI
printf '"kamei" "%s"\n' "$password" > "$pg/userlist.txt"
chmod 600 "$pg/userlist.txt" "$pg/pgbouncer.ini"
[ "$(id -u)" -eq 0 ] && chown postgres "$pg/userlist.txt" "$pg/pgbouncer.ini"
as_postgres pgbouncer -d "$pg/pgbouncer.ini"

# kamei over the same database: the demo configuration with the database as its source.
"$kamei" init "$tmp/conf" >/dev/null
python3 - "$tmp/conf/kamei.toml" "$pgport" <<'PY'
import sys
path, port = sys.argv[1], sys.argv[2]
text = open(path).read().replace('[sources]\n', '').replace('dir = "demo"\n', '')
text += f'\n[sources.world]\nkind = "postgres"\nurl = "postgres://kamei@127.0.0.1:{port}/bench"\npassword_env = "PGPASSWORD"\nmax_connections = 64\n'
open(path, "w").write(text)
PY
export KAMEI_MASTER_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$kamei" keys init --config "$tmp/conf/kamei.toml" >/dev/null
kport=$(free_port)
start_kamei() {
  rm -rf "$tmp/audit"
  "$kamei" serve --config "$tmp/conf/kamei.toml" --listen "127.0.0.1:$kport" --audit-log "$tmp/audit" \
    2> "$tmp/serve.log" &
  kamei_pid=$!
  wait_for_kamei "$kport" "$kamei_pid" "$tmp/serve.log"
}
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$kamei_pid/status"; }
peak_mib() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$kamei_pid/status"; }
start_kamei
as() { local who=$1; shift; PGPASSWORD=$who-demo psql -X -qAt -h 127.0.0.1 -p "$kport" -U "$who" -d kamei "$@"; }

# The keys looked up: 100 Japanese users (straight, PgBouncer, jp_support), and 100 users as
# cn_contractor's codes (kamei) and 100 other users' raw keys (straight, PgBouncer). A pgbench
# script picks one at random per statement.
script() {
  local file=$1; shift
  { echo '\set k random(0, 99)'; printf '\\set id CASE'; local i=0
    for id in "$@"; do printf ' WHEN :k = %d THEN %s' "$i" "$id"; i=$((i + 1)); done
    echo ' END'; echo 'SELECT phone FROM users WHERE user_id = :id;'; } > "$file"
}
# shellcheck disable=SC2046
script "$tmp/jp.sql" $(direct -c "SELECT user_id FROM users WHERE country = 'JP' ORDER BY random() LIMIT 100")
# shellcheck disable=SC2046
script "$tmp/any.sql" $(direct -c "SELECT user_id FROM users ORDER BY random() LIMIT 100")
# shellcheck disable=SC2046
script "$tmp/code.sql" $(as cn_contractor -c "SELECT user_id FROM users LIMIT 100")

# One pgbench run: label, clients, how long (-t N or -T S), user, port, database, script.
run() {
  local label=$1 clients=$2 length=$3 user=$4 port=$5 db=$6 file=$7 pw=$password
  [ "$port" = "$kport" ] && pw=$user-demo
  mkdir -p "$tmp/$label" && rm -f "$tmp/$label"/*
  (cd "$tmp/$label" && PGPASSWORD=$pw pgbench -n -M prepared -c "$clients" -j "$(( clients > 1 ? 2 : 1 ))" $length \
    -l -f "$file" -h 127.0.0.1 -p "$port" -U "$user" "$db" > out.txt 2>&1) || { cat "$tmp/$label/out.txt"; exit 1; }
  local failed tps
  failed=$(awk -F': ' '/number of failed transactions/ {print $2}' "$tmp/$label/out.txt")
  tps=$(awk '/^tps/ {printf "%.0f", $3}' "$tmp/$label/out.txt")
  cat "$tmp/$label"/pgbench_log.* | python3 -c '
import sys
label, tps, failed = sys.argv[1:4]
lat = sorted(int(l.split()[2]) for l in sys.stdin)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000
print(f"{label:<34} {len(lat):>8,} statements  {int(tps):>7,}/s  p50 {q(0.50):6.3f} ms  p99 {q(0.99):6.3f} ms  failed {failed}")' \
    "$label" "$tps" "${failed:-0}"
}

echo "== 1. point lookup, prepared, 1 client, 10,000 statements (alternating rounds)"
for round in 1 2 3; do
  run "r$round straight (JP users)" 1 "-t 10000" kamei "$pgport" bench "$tmp/jp.sql"
  run "r$round PgBouncer (JP users)" 1 "-t 10000" kamei "$bport" bench "$tmp/jp.sql"
  run "r$round kamei jp_support (JP users)" 1 "-t 10000" jp_support "$kport" kamei "$tmp/jp.sql"
  run "r$round straight (any users)" 1 "-t 10000" kamei "$pgport" bench "$tmp/any.sql"
  run "r$round kamei cn_contractor (codes)" 1 "-t 10000" cn_contractor "$kport" kamei "$tmp/code.sql"
done

echo "== 2. point lookup, prepared, 64 clients, $seconds s"
run "straight (JP users)" 64 "-T $seconds" kamei "$pgport" bench "$tmp/jp.sql"
run "PgBouncer (JP users)" 64 "-T $seconds" kamei "$bport" bench "$tmp/jp.sql"
# PgBouncer's 64 server connections and kamei's would not fit in the server's 100.
kill "$(cat "$pg/pgbouncer.pid")"
run "kamei jp_support (JP users)" 64 "-T $seconds" jp_support "$kport" kamei "$tmp/jp.sql"
run "kamei cn_contractor (codes)" 64 "-T $seconds" cn_contractor "$kport" kamei "$tmp/code.sql"
echo "kamei RSS $(rss_mib) MiB, peak $(peak_mib) MiB"

echo "== 3. full scan of every user to psql (alternating rounds)"
columns=$(as cn_contractor -c "SELECT string_agg(column_name, ', ') FROM information_schema.columns WHERE table_name = 'users'")
timed() {
  local label=$1; shift
  local start end rows
  start=$(date +%s.%N)
  rows=$("$@" | wc -l)
  end=$(date +%s.%N)
  python3 -c "import sys; r, s = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2]); print(f'{sys.argv[4]:<44} {r:,} rows in {s:.2f} s: {r / s:,.0f} rows/s')" "$rows" "$start" "$end" "$label"
}
for round in 1 2 3; do
  timed "r$round straight COPY users TO STDOUT" direct -c "COPY users TO STDOUT"
  timed "r$round straight COPY (SELECT <columns>)" direct -c "COPY (SELECT $columns FROM users) TO STDOUT"
  timed "r$round kamei cn_contractor COPY (SELECT <columns>)" as cn_contractor -c "COPY (SELECT $columns FROM users) TO STDOUT"
done
stop_kamei
"$kamei" audit verify --log "$tmp/audit" | tail -1

echo "== 4. resident memory over a full scan of 10,000,000 rows or more"
while [ "$(direct -c "SELECT count(*) FROM messages")" -lt 10000000 ]; do
  direct -c "INSERT INTO messages SELECT message_id + (SELECT max(message_id) FROM messages), chat_id, sender_id, \
    recipient_id, sender_country, sent_at, body FROM messages"
done
direct -c "VACUUM ANALYZE messages"
start_kamei
echo "kamei RSS after start $(rss_mib) MiB (the subject directory of $(direct -c "SELECT count(*) FROM users") users included)"
sampler() { while kill -0 "$kamei_pid" 2>/dev/null; do rss_mib; echo; sleep 0.5; done > "$tmp/rss.txt"; }
sampler & sampling=$!
timed "kamei cn_contractor COPY (SELECT message_id, chat_id, sender_id, sender_country, sent_at FROM messages)" \
  as cn_contractor -c "COPY (SELECT message_id, chat_id, sender_id, sender_country, sent_at FROM messages) TO STDOUT"
kill "$sampling" 2>/dev/null || true
echo "kamei RSS during the scan: max sampled $(sort -n "$tmp/rss.txt" | tail -1) MiB; peak (VmHWM) $(peak_mib) MiB"
