#!/usr/bin/env python3
"""Build tests/data/hand_labelled.jsonl from the hand-written source tests/data/hand_labelled.src.txt.

Standard library only. Usage:

    python3 scripts/build-gold.py [SRC] [OUT]

Source format (see tests/data/README.md):
  - one text per line; blank lines and lines starting with '#' are skipped;
  - '@lang CODE' sets the language of the lines that follow (ja, en, th, zh-TW, id, zh-CN, ko, vi);
  - '[[TYPE|value]]' labels value as personal data of TYPE (a kamei personal-data type); value may
    contain single square brackets (taro[at]example[dot]jp), never a double one;
  - '[[~kind|value]]' marks a hard negative: value stays in the text, unlabelled, and is counted
    under 'kind' in the summary (documentation only, never an entity).

Checks, each failing with exit 1 and the offending source line: known type, non-empty span without
surrounding whitespace, no nested or stray markup, no overlapping spans, no duplicate texts, and the
validators of the check-digit types: MY_NUMBER (My Number Act check digit), CORPORATE_NUMBER
(法人番号 check digit), CREDIT_CARD (Luhn), IBAN (ISO 13616 mod-97), plus IP_ADDRESS must parse.
The check-digit validators read any Unicode digit (full-width, Thai, Arabic-Indic…) and kanji
numerals (〇一二…, 零壱弐参…), and ignore separators, punctuation, symbols and emoji between them.
The output is written to a temporary file and renamed, so a failed run leaves the old file intact.
"""
import ipaddress
import json
import os
import re
import sys
import unicodedata
from collections import Counter

TYPES = (
    "EMAIL", "PHONE", "CREDIT_CARD", "MY_NUMBER", "CORPORATE_NUMBER", "POSTAL_CODE", "ADDRESS",
    "PERSON", "DATE_OF_BIRTH", "IP_ADDRESS", "IBAN", "PASSPORT", "DRIVER_LICENSE", "BANK_ACCOUNT",
)
LANGS = ("ja", "en", "th", "zh-TW", "id", "zh-CN", "ko", "vi")
# The value may hold single brackets ("[dot]"), but no "[[" or "]]".
MARK = re.compile(r"\[\[([^\[\]|]*)\|((?:[^\[\]]|\[(?!\[)|\](?!\]))*?)\]\]")
SEPARATORS = " -\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\u3000"


class GoldError(Exception):
    pass


KANJI_DIGITS = {
    "〇": "0", "零": "0", "一": "1", "壱": "1", "壹": "1", "二": "2", "弐": "2", "貳": "2",
    "三": "3", "参": "3", "參": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6",
    "陸": "6", "七": "7", "漆": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
}


def digits_only(value):
    """NFKC (full-width digits to ASCII), then drop spaces and dash-like separators.

    Any other Unicode digit (Thai ๐-๙, Arabic-Indic, …) and kanji numerals become ASCII digits,
    and punctuation, symbols, spaces, format characters and combining marks (dots, slashes,
    emoji, keycaps) between them are dropped. Values made of ASCII digits, letters, spaces and
    dashes come out as before."""
    v = unicodedata.normalize("NFKC", value)
    v = "".join(ch for ch in v if ch not in SEPARATORS)
    out = []
    for ch in v:
        if ch in KANJI_DIGITS:
            out.append(KANJI_DIGITS[ch])
        elif not ch.isascii() and unicodedata.digit(ch, None) is not None:
            out.append(str(unicodedata.digit(ch)))
        elif unicodedata.category(ch)[0] in "PSZ" or unicodedata.category(ch) in ("Cf", "Mn", "Me"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def my_number_ok(value):
    d = digits_only(value)
    if not re.fullmatch(r"[0-9]{12}", d):
        return False, f"MY_NUMBER must have 12 digits, got {d!r}"
    weights = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    r = sum(int(c) * w for c, w in zip(d[:11], weights)) % 11
    check = 0 if r <= 1 else 11 - r
    if int(d[11]) != check:
        return False, f"MY_NUMBER check digit is {d[11]}, expected {check}"
    return True, ""


def corporate_number_ok(value):
    d = digits_only(value)
    if not re.fullmatch(r"[0-9]{13}", d):
        return False, f"CORPORATE_NUMBER must have 13 digits, got {d!r}"
    body = d[1:]
    s = sum(int(c) * (1 if n % 2 else 2) for n, c in enumerate(reversed(body), 1))
    check = 9 - s % 9
    if int(d[0]) != check:
        return False, f"CORPORATE_NUMBER check digit is {d[0]}, expected {check}"
    return True, ""


def luhn_ok(value):
    d = digits_only(value)
    if not re.fullmatch(r"[0-9]{12,19}", d):
        return False, f"CREDIT_CARD must have 12-19 digits, got {d!r}"
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    if total % 10:
        return False, f"CREDIT_CARD {d} fails the Luhn check"
    return True, ""


def iban_ok(value):
    v = digits_only(value).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", v):
        return False, f"IBAN has the wrong shape: {v!r}"
    moved = v[4:] + v[:4]
    n = int("".join(str(int(c, 36)) for c in moved))
    if n % 97 != 1:
        return False, f"IBAN {v} fails mod-97 (remainder {n % 97})"
    return True, ""


def ip_ok(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False, f"IP_ADDRESS {value!r} does not parse as IPv4 or IPv6"
    return True, ""


VALIDATORS = {
    "MY_NUMBER": my_number_ok,
    "CORPORATE_NUMBER": corporate_number_ok,
    "CREDIT_CARD": luhn_ok,
    "IBAN": iban_ok,
    "IP_ADDRESS": ip_ok,
}


def parse_line(raw):
    """Return (text, entities, negatives) for one source line."""
    text_parts = []
    entities = []
    negatives = []
    pos = 0  # index into raw
    length = 0  # code points emitted so far
    for m in MARK.finditer(raw):
        before = raw[pos:m.start()]
        text_parts.append(before)
        length += len(before)
        kind, value = m.group(1), m.group(2)
        if value == "":
            raise GoldError(f"empty span in {m.group(0)!r}")
        # A span must be tight: no leading or trailing blanks or sentence punctuation.
        if value != value.strip() or value[-1] in "、。,，;；:：!！?？" or value[0] in "、。,，:：":
            raise GoldError(f"span {value!r} has surrounding whitespace or punctuation")
        if kind.startswith("~"):
            negatives.append(kind[1:] or "other")
        elif kind in TYPES:
            validator = VALIDATORS.get(kind)
            if validator:
                ok, why = validator(value)
                if not ok:
                    raise GoldError(why)
            entities.append({"type": kind, "start": length, "end": length + len(value)})
        else:
            raise GoldError(f"unknown type {kind!r} in {m.group(0)!r} (known: {', '.join(TYPES)})")
        text_parts.append(value)
        length += len(value)
        pos = m.end()
    text_parts.append(raw[pos:])
    text = "".join(text_parts)
    for stray in ("[[", "]]"):
        if stray in text:
            raise GoldError(f"stray or malformed markup {stray!r} left in the text")
    spans = sorted((e["start"], e["end"]) for e in entities)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        if s2 < e1:
            raise GoldError(f"spans {s1}-{e1} and {s2}-{e2} overlap")
    if text != text.strip():
        raise GoldError("text has leading or trailing whitespace")
    return text, entities, negatives


def build(src, out):
    records = []
    seen = {}
    lang = None
    type_counts = Counter()
    lang_lines = Counter()
    lang_type = Counter()
    neg_counts = Counter()
    neg_lines = 0
    with open(src, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            raw = raw.rstrip("\n")
            if raw.strip() == "" or raw.startswith("#"):
                continue
            where = f"{src}:{lineno}"
            try:
                if raw.startswith("@lang "):
                    lang = raw.split(None, 1)[1].strip()
                    if lang not in LANGS:
                        raise GoldError(f"unknown language {lang!r} (known: {', '.join(LANGS)})")
                    continue
                if lang is None:
                    raise GoldError("text before the first '@lang' line")
                text, entities, negatives = parse_line(raw)
                if text in seen:
                    raise GoldError(f"duplicate text, first at line {seen[text]}")
                seen[text] = lineno
            except GoldError as e:
                print(f"build-gold: {where}: {e}\n  {raw}", file=sys.stderr)
                sys.exit(1)
            records.append({"id": len(records) + 1, "lang": lang, "text": text, "entities": entities})
            lang_lines[lang] += 1
            for e in entities:
                type_counts[e["type"]] += 1
                lang_type[(lang, e["type"])] += 1
            for n in negatives:
                neg_counts[n] += 1
            if negatives:
                neg_lines += 1
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, out)

    total = len(records)
    # The five original languages are always shown; the newer ones only when the set has them.
    langs = [l for l in LANGS if l in LANGS[:5] or lang_lines[l]]
    print(f"wrote {out}: {total} lines, {sum(type_counts.values())} entities")
    print("lines per language: " + ", ".join(
        f"{l} {lang_lines[l]} ({100 * lang_lines[l] / total:.0f}%)" for l in langs))
    print("\n| type | " + " | ".join(langs) + " | total |")
    print("|---|" + "---:|" * (len(langs) + 1))
    for t in TYPES:
        print(f"| {t} | " + " | ".join(str(lang_type[(l, t)]) for l in langs) + f" | {type_counts[t]} |")
    print(f"| all | " + " | ".join(str(sum(lang_type[(l, t)] for t in TYPES)) for l in langs)
          + f" | {sum(type_counts.values())} |")
    no_entity = sum(1 for r in records if not r["entities"])
    print(f"\nlines without any entity: {no_entity}")
    print(f"lines with marked hard negatives: {neg_lines} ({100 * neg_lines / total:.0f}%)")
    print("hard negatives by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(neg_counts.items())))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests/data/hand_labelled.src.txt")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "tests/data/hand_labelled.jsonl")
    build(src, out)


if __name__ == "__main__":
    main()
