#!/usr/bin/env bash
# Detector throughput on >= 100 MB of generated message bodies (issue 3).
# Usage: bash bench/detect-throughput.sh [MB]   (writes its corpus under target/bench-detect)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
dir=target/bench-detect
rm -rf "$dir" && mkdir -p "$dir"
cargo build --release -p kamei --quiet
./target/release/kamei generate --out "$dir/world" --users 20000 --format csv >/dev/null
python3 - "$dir/world/messages.csv" "$dir/bodies.txt" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as out:
    for row in csv.DictReader(f):
        out.write(row["body"].replace("\n", " ") + "\n")
PY
echo "== library (cargo bench -p kamei-detect --bench throughput)"
cargo bench -p kamei-detect --bench throughput --quiet -- "$PWD/$dir/bodies.txt" "$mb"
echo "== command line (kamei detect, ${mb} MB file)"
python3 - "$dir/bodies.txt" "$dir/corpus.txt" "$mb" <<'PY'
import sys
src = open(sys.argv[1], encoding="utf-8").read()
target = int(sys.argv[3]) << 20
with open(sys.argv[2], "w", encoding="utf-8") as out:
    n = 0
    while n < target:
        out.write(src)
        n += len(src.encode())
PY
size=$(stat -c %s "$dir/corpus.txt")
for threads in 1 0; do
    start=$(date +%s.%N)
    if [ "$threads" = 1 ]; then RAYON_NUM_THREADS=1 ./target/release/kamei detect "$dir/corpus.txt" >/dev/null
    else ./target/release/kamei detect "$dir/corpus.txt" >/dev/null; fi
    end=$(date +%s.%N)
    python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'kamei detect, {\"1 thread\" if sys.argv[4]==\"1\" else \"all cores\"}: {int(sys.argv[3])/1e6/s:.1f} MB/s ({int(sys.argv[3])/1e6:.0f} MB in {s:.2} s)')" "$start" "$end" "$size" "$threads"
done
