#!/usr/bin/env bash
# Share of the generator's labelled personal-data spans in message bodies that survive the
# gateway's redaction whole, for one principal, against a running `kamei serve` over a world
# written by `kamei generate` (labels in DIR/labels/messages.jsonl).
# Usage: bench/free-text-survival.sh DATA_DIR [PRINCIPAL] [PORT]
set -euo pipefail
data=${1:?usage: bench/free-text-survival.sh DATA_DIR [PRINCIPAL] [PORT]}
who=${2:-cn_contractor}
port=${3:-5433}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PGHOST=127.0.0.1 PGPORT=$port PGDATABASE=kamei
PGPASSWORD=admin-demo psql -U admin -X -q -c "COPY (SELECT message_id, body FROM messages) TO STDOUT" > "$tmp/raw.tsv"
PGPASSWORD=$who-demo psql -U "$who" -X -q -c "COPY (SELECT message_id, body FROM messages) TO STDOUT" > "$tmp/seen.tsv"
python3 - "$tmp/raw.tsv" "$tmp/seen.tsv" "$data/labels/messages.jsonl" "$who" <<'PY'
import collections, json, sys
def load(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        i, _, body = line.rstrip("\n").partition("\t")
        out[i] = body.replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")
    return out
raw, seen = load(sys.argv[1]), load(sys.argv[2])
total, kept = collections.Counter(), collections.Counter()
for line in open(sys.argv[3], encoding="utf-8"):
    v = json.loads(line)
    i = str(v["message_id"])
    chars = list(raw.get(i, ""))
    for e in v["entities"]:
        span = "".join(chars[e["start"]:e["end"]])
        total[e["type"]] += 1
        kept[e["type"]] += span in seen.get(i, "")
t, k = sum(total.values()), sum(kept.values())
print(f"{sys.argv[4]}: {k} of {t} labelled spans survive whole ({100 * k / t:.2f} %)")
for ty in sorted(total):
    if kept[ty]:
        print(f"  {ty}: {kept[ty]} of {total[ty]} ({100 * kept[ty] / total[ty]:.2f} %)")
PY
