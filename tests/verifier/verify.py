#!/usr/bin/env python3
"""An independent verifier for kamei's audit log.

Written only from the public specifications, not from kamei's code:
  - RFC 9162 section 2.1 (Merkle tree hashing; verifying inclusion proofs, 2.1.3.2;
    verifying consistency proofs, 2.1.4.2),
  - c2sp.org/tlog-checkpoint (checkpoint body), c2sp.org/signed-note (signatures, key ids,
    verifier keys), c2sp.org/tlog-tiles (entry bundle paths and format).
Uses only the Python standard library and the `cryptography` package (Ed25519).

Commands (exit 0 and print OK when everything verifies, else exit 1 and print FAIL: why):
  verify.py checkpoint  --vkey VKEY --checkpoint FILE
  verify.py inclusion   --vkey VKEY --checkpoint FILE --proof FILE --log DIR
  verify.py consistency --vkey VKEY --old-checkpoint FILE --checkpoint FILE --proof FILE
  verify.py tree        --vkey VKEY --checkpoint FILE --log DIR
  verify.py report      --vkey VKEY --report FILE
The `report` command checks a report that embeds its evidence (`kamei report subject --format
json`): the signed checkpoint in it (`checkpoint.note`), and for every record its leaf (the
record's JSON, `leaf`) against its inclusion proof (`proof`), and that the fields the report
shows of the record are those of the proven leaf. A record without a proof fails.
VKEY is a note verifier key `<name>+<hex key id>+<base64 key>` or a file holding one.
"""

import argparse
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Fail(Exception):
    pass


# --- RFC 9162 section 2.1.1 -------------------------------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaves):
    """MTH(D[n]) by the recursive definition."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


# --- RFC 9162 section 2.1.3.2 -----------------------------------------------------------------

def verify_inclusion(leaf_index, tree_size, leaf, path, root):
    if leaf_index >= tree_size:
        raise Fail("leaf index is not below the tree size")
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in path:
        if sn == 0:
            raise Fail("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fail("inclusion proof is too short")
    if r != root:
        raise Fail("inclusion proof does not lead to the root")


# --- RFC 9162 section 2.1.4.2 -----------------------------------------------------------------

def verify_consistency(first, second, first_hash, second_hash, path):
    if first == second:
        if path:
            raise Fail("consistency proof between equal sizes must be empty")
        if first_hash != second_hash:
            raise Fail("equal sizes with different roots")
        return
    if first == 0 or first > second:
        raise Fail("bad tree sizes")
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    if not path:
        raise Fail("consistency proof is empty")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Fail("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fail("consistency proof is too short")
    if fr != first_hash:
        raise Fail("consistency proof does not lead to the old root")
    if sr != second_hash:
        raise Fail("consistency proof does not lead to the new root")


# --- c2sp.org/signed-note and c2sp.org/tlog-checkpoint ------------------------------------------

def parse_vkey(text):
    if os.path.exists(text):
        with open(text) as f:
            text = f.read()
    text = text.strip()
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise Fail("verifier key is not name+id+key")
    name, id_hex, key_b64 = parts
    key = base64.b64decode(key_b64, validate=True)
    if len(id_hex) != 8 or not key or key[0] != 0x01 or len(key) != 33:
        raise Fail("verifier key is not an Ed25519 note key")
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if key_id.hex() != id_hex.lower():
        raise Fail("verifier key id does not match the key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(key[1:])


def open_checkpoint(data, vkey):
    """Checks the note signature by the verifier key; returns (origin, size, root)."""
    name, key_id, public = vkey
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Fail("checkpoint is not UTF-8")
    sep = text.rfind("\n\n")
    if sep < 0 or not text.endswith("\n"):
        raise Fail("checkpoint is not a signed note")
    body = text[: sep + 1]
    verified = False
    for line in text[sep + 2 : -1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Fail("malformed signature line")
        sig_name, _, sig_b64 = line[2:].partition(" ")
        raw = base64.b64decode(sig_b64, validate=True)
        if sig_name != name or raw[:4] != key_id:
            continue
        try:
            public.verify(raw[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise Fail("checkpoint signature does not verify")
        verified = True
    if not verified:
        raise Fail("checkpoint has no signature by the verifier key")
    lines = body.split("\n")
    if len(lines) < 4:
        raise Fail("checkpoint body is too short")
    origin, size_text, root_b64 = lines[0], lines[1], lines[2]
    if origin != name:
        raise Fail("checkpoint origin is not the key name")
    if not size_text.isdigit():
        raise Fail("checkpoint size is not decimal")
    root = base64.b64decode(root_b64, validate=True)
    if len(root) != 32:
        raise Fail("checkpoint root is not 32 bytes")
    return origin, int(size_text), root


# --- c2sp.org/tlog-tiles entry bundles --------------------------------------------------------

def tile_index_path(n):
    s = "%03d" % (n % 1000)
    while n >= 1000:
        n //= 1000
        s = "x%03d/%s" % (n % 1000, s)
    return s


def read_bundle(log_dir, n, tree_size):
    full = tree_size // 256
    width = 256 if n < full else tree_size % 256
    path = os.path.join(log_dir, "tile", "entries", tile_index_path(n))
    if width != 256:
        path += ".p/%d" % width
    with open(path, "rb") as f:
        data = f.read()
    entries, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise Fail("entry bundle %d is cut short" % n)
        length = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + length > len(data):
            raise Fail("entry bundle %d is cut short" % n)
        entries.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    if len(entries) != width:
        raise Fail("entry bundle %d holds %d entries, expected %d" % (n, len(entries), width))
    return entries


def check_report(report, vkey):
    """Checks every record a report cites against the checkpoint the report embeds."""
    _, size, root = open_checkpoint(report["checkpoint"]["note"].encode("utf-8"), vkey)
    records = report["records"]
    if not records:
        raise Fail("the report cites no record")
    for record in records:
        index, proof = record["index"], record["proof"]
        if proof is None:
            raise Fail("record %d has no inclusion proof" % index)
        if proof["index"] != index or proof["tree_size"] != size:
            raise Fail("record %d: the proof is for another index or tree size" % index)
        leaf = leaf_hash(record["leaf"].encode("utf-8"))
        if leaf.hex() != proof["leaf_hash"]:
            raise Fail("record %d: the leaf's hash is not the proof's leaf hash" % index)
        verify_inclusion(index, size, leaf, [bytes.fromhex(h) for h in proof["hashes"]], root)
        # What a person reads must be what was proven.
        fields = json.loads(record["leaf"])
        for name in ("time", "principal", "org", "country", "action", "rows", "statement"):
            if fields[name] != record[name]:
                raise Fail("record %d: the report's %s is not the proven record's" % (index, name))
        shown = {(c["table"], c["column"]): c["level"] for c in record["columns"]}
        proven = {(t, c): l for t, cs in fields["tables"].items() for c, l in cs.items()}
        if shown != proven:
            raise Fail("record %d: the report's columns are not the proven record's" % index)
    return len(records)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["checkpoint", "inclusion", "consistency", "tree", "report"])
    ap.add_argument("--vkey", required=True)
    ap.add_argument("--checkpoint")
    ap.add_argument("--report")
    ap.add_argument("--old-checkpoint")
    ap.add_argument("--proof")
    ap.add_argument("--log")
    args = ap.parse_args(argv)
    vkey = parse_vkey(args.vkey)
    if args.command == "report":
        if not args.report:
            raise Fail("report needs --report FILE")
        n = check_report(json.loads(read(args.report)), vkey)
        print("OK %d records" % n)
        return 0
    if not args.checkpoint:
        raise Fail("%s needs --checkpoint FILE" % args.command)
    _, size, root = open_checkpoint(read(args.checkpoint), vkey)
    if args.command == "inclusion":
        proof = json.loads(read(args.proof))
        index = proof["index"]
        if proof["tree_size"] != size:
            raise Fail("proof is for another tree size than the checkpoint")
        entry = read_bundle(args.log, index // 256, size)[index % 256]
        leaf = leaf_hash(entry)
        if leaf.hex() != proof["leaf_hash"]:
            raise Fail("the entry's hash is not the proof's leaf hash")
        verify_inclusion(index, size, leaf, [bytes.fromhex(h) for h in proof["hashes"]], root)
    elif args.command == "consistency":
        _, old_size, old_root = open_checkpoint(read(args.old_checkpoint), vkey)
        proof = json.loads(read(args.proof))
        if proof["old_size"] != old_size or proof["tree_size"] != size:
            raise Fail("proof sizes do not match the checkpoints")
        verify_consistency(old_size, size, old_root, root, [bytes.fromhex(h) for h in proof["hashes"]])
    elif args.command == "tree":
        leaves = []
        for n in range((size + 255) // 256):
            leaves.extend(read_bundle(args.log, n, size))
        if root_of(leaves) != root:
            raise Fail("the entries do not hash to the checkpoint's root")
    print("OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("FAIL: %s" % e)
        sys.exit(1)
    except (ValueError, KeyError, TypeError, OSError) as e:
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
