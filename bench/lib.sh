# Shared by the bench scripts that drive `kamei serve` (source it).

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits until the `kamei serve` of pid PID answers on PORT (as the demo admin); if it exits
# first, prints its LOG and stops the script.
wait_for_kamei() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 1 600); do
    if PGPASSWORD=admin-demo psql -X -q -h 127.0.0.1 -p "$port" -U admin -d kamei -c 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$0: kamei serve did not start" >&2
  exit 1
}
