#!/usr/bin/env python3
"""gen.py - build the hostile payloads from the manifest and the corpus.

  gen.py corpus SIGNER KEYDIR OUTDIR
      Reads manifest and corpus/ next to this file and writes, for each
      line, OUTDIR/NAME.bin (the exact payload) and a line
      "NAME TOPIC EXPECT ID SIGNER" to OUTDIR/list (ID: the envelope
      id, or -; SIGNER: the node whose key in KEYDIR signed it, the
      original's for a replay or re-encoding, or - for none or a rogue
      key).
  gen.py flood KIND COUNT SIGNER KEYDIR >LINES
      COUNT payloads, one per line, for mosquitto_pub -l:
        rate     valid status (later) envelopes from flood-1
        window   the same from wflood-1, short-lived, every id distinct
        garbage  a mix of oversize, deep, duplicate-key, invalid UTF-8,
                 forged (bad signature) and unknown-key envelopes

SIGNER is hive-test-sign; KEYDIR holds NODE.key (and rogue/NODE.key).
Only the standard library: the signature comes from SIGNER.
"""
import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789._:-")
NODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
CHARSET = {
    "id": ID_CHARS, "corr": ID_CHARS, "replyTo": ID_CHARS,
    "from": NODE_CHARS, "to": NODE_CHARS,
    "action": set("abcdefghijklmnopqrstuvwxyz0123456789_-"),
    "kid": set("0123456789abcdef"),
    "ch": set("abcdefghijklmnopqrstuvwxyz"),
    "urgency": set("abcdefghijklmnopqrstuvwxyz"),
}


def dump(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def fill(v, now):
    """Replace the @...@ placeholders of a template, recursively."""
    if isinstance(v, dict):
        return {k: fill(x, now) for k, x in v.items()}
    if isinstance(v, list):
        return [fill(x, now) for x in v]
    if isinstance(v, str) and v.startswith("@") and v.endswith("@"):
        m = re.fullmatch(r"@NOW([+-]\d+)?@", v)
        if m:
            return now + int(m.group(1) or 0)
        if v == "@UUID@":
            return str(uuid.uuid4())
        raise SystemExit("unknown placeholder " + v)
    return v


def sign(signer, keydir, node, templates):
    key = os.path.join(keydir, node + ".key")
    inp = "".join(dump(t) + "\n" for t in templates)
    out = subprocess.run([signer, key], input=inp.encode(), check=True,
                         stdout=subprocess.PIPE).stdout
    return out.decode().splitlines()


def flip_str(field, s):
    """One bit flipped in the first character that stays in charset."""
    allowed = CHARSET.get(field)
    for i, c in enumerate(s):
        f = chr(ord(c) ^ 1)
        if (allowed is None and 0x20 <= ord(f) < 0x7f and f not in '"\\') \
                or (allowed is not None and f in allowed):
            return s[:i] + f + s[i + 1:]
    raise SystemExit("cannot flip a bit in %s=%r" % (field, s))


def flip(d, field):
    v = d[field]
    if field == "sig":
        raw = bytearray(base64.b64decode(v))
        raw[0] ^= 1
        d[field] = base64.b64encode(bytes(raw)).decode()
    elif isinstance(v, bool) or v is None:
        raise SystemExit("cannot flip " + field)
    elif isinstance(v, int):
        d[field] = v ^ 1
    elif isinstance(v, str):
        d[field] = flip_str(field, v)
    elif isinstance(v, dict):
        k = next(k for k, x in v.items() if isinstance(x, int))
        v[k] ^= 1
    else:
        raise SystemExit("cannot flip " + field)


def mutate(wire, how, other_sig):
    d = json.loads(wire)
    kind, _, arg = how.partition(":")
    if kind == "flip":
        flip(d, arg)
    elif how == "sig:unused-bits":
        # same 64 bytes, but a non-zero bit where the encoding has none
        s = d["sig"]
        last = B64[B64.index(s[85]) | 1]
        if last == s[85]:
            last = B64[B64.index(s[85]) | 2]
        d["sig"] = s[:85] + last + "=="
    elif how == "sig:other":
        d["sig"] = other_sig
    elif how == "sig:zero":
        d["sig"] = base64.b64encode(bytes(64)).decode()
    else:
        raise SystemExit("unknown mutation " + how)
    return dump(d)


def reencode(wire):
    """The same JSON value, another encoding: members reversed,
    whitespace, every character of text escaped."""
    d = json.loads(wire)
    items = list(d.items())[::-1]
    parts = []
    for k, v in items:
        if k == "text":
            enc = '"' + "".join("\\u%04x" % ord(c) for c in v) + '"'
        else:
            enc = json.dumps(v)
        parts.append('\n  %s : %s' % (json.dumps(k), enc))
    return "{" + ",".join(parts) + "\n}\n"


def build_one(row, published, signer, keydir, now):
    name, topic, expect, build, mut = row
    kind, _, arg = build.partition(":")
    path = os.path.join(HERE, "corpus", name + ".json")
    if kind in ("replay", "reencode"):
        src = published[arg]
        return src if kind == "replay" else reencode(src.decode()).encode()
    with open(path, "rb") as f:
        data = f.read()
    if kind == "raw":
        return data
    if kind == "bytes":
        return re.sub(rb"\\x([0-9a-f]{2})",
                      lambda m: bytes([int(m.group(1), 16)]), data)
    if kind == "pad":
        return data + b" " * (int(arg) - len(data))
    if kind == "text":
        d = json.loads(data)
        d["text"] += "x" * (int(arg) - len(data))
        out = dump(d).encode()
        assert len(out) == int(arg), len(out)
        return out
    if kind == "sign":
        t = fill(json.loads(data), now)
        other = dict(t, text=t["text"] + " (another message)")
        wire, wire2 = sign(signer, keydir, arg, [t, other])
        if mut != "-":
            wire = mutate(wire, mut, json.loads(wire2)["sig"])
        return wire.encode()
    raise SystemExit("unknown build " + build)


def signed_by(row, signers):
    """The node whose trusted key signed the payload of row, or -."""
    kind, _, arg = row[3].partition(":")
    if kind in ("replay", "reencode"):
        return signers[arg]
    if kind == "sign" and not arg.startswith("rogue/"):
        return arg
    return "-"


def corpus(signer, keydir, outdir):
    rows = []
    with open(os.path.join(HERE, "manifest")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                rows.append(line.split())
    published = {}
    signers = {}
    now = int(time.time())
    with open(os.path.join(outdir, "list"), "w") as lst:
        for row in rows:
            if len(row) != 5:
                raise SystemExit("manifest: bad line: " + " ".join(row))
            data = build_one(row, published, signer, keydir, now)
            published[row[0]] = data
            signers[row[0]] = signed_by(row, signers)
            with open(os.path.join(outdir, row[0] + ".bin"), "wb") as f:
                f.write(data)
            try:
                ident = json.loads(data)["id"]
            except Exception:
                ident = "-"
            if not isinstance(ident, str) or not re.fullmatch(
                    r"[A-Za-z0-9._:-]{1,64}", ident):
                ident = "-"
            lst.write("%s %s %s %s %s\n" % (row[0], row[1], row[2], ident,
                                             signers[row[0]]))


def status(node, ttl, now, i):
    return {"v": 2, "id": "%s-%d-%s" % (node, i, uuid.uuid4().hex[:8]),
            "ts": now, "from": node, "to": "pg1-18890", "ch": "status",
            "urgency": "later", "ttl": ttl, "text": "flood %d" % i}


def garbage(count, signer, keydir, now):
    forged = json.loads(sign(signer, keydir, "turq-18789",
                             [status("turq-18789", 600, now, 0)])[0])
    rogue = sign(signer, keydir, "rogue/turq-18789",
                 [status("turq-18789", 600, now, 1)])[0]
    deep = '{"v":2,"args":' + '[' * 9 + ']' * 9 + '}'
    out = []
    for i in range(count):
        k = i % 6
        if k == 0:
            out.append(b"{}" + b" " * 65536)
        elif k == 1:
            forged["text"] = "forged %d" % i
            out.append(dump(forged).encode())
        elif k == 2:
            out.append(rogue.encode())
        elif k == 3:
            out.append(deep.encode())
        elif k == 4:
            out.append(('{"v":2,"id":"g%d","id":"g%d"}' % (i, i)).encode())
        else:
            out.append(b'{"v":2,"text":"\xff\xfe%d"}' % i)
    return out


def flood(kind, count, signer, keydir):
    now = int(time.time())
    if kind == "garbage":
        lines = garbage(count, signer, keydir, now)
    else:
        # the window flood's entries must go soon (ts + ttl + max_skew)
        # but be fresh when they arrive, however slow the machine:
        # ts at the daemon's max_skew (2) ahead, acceptable for 5 s
        node, ttl, ts = ("flood-1", 600, now) if kind == "rate" else \
            ("wflood-1", 3, now + 2)
        lines = [l.encode() for l in sign(signer, keydir, node,
                 [status(node, ttl, ts, i) for i in range(count)])]
    sys.stdout.buffer.write(b"".join(l + b"\n" for l in lines))


def main(argv):
    if len(argv) == 5 and argv[1] == "corpus":
        corpus(argv[2], argv[3], argv[4])
    elif len(argv) == 6 and argv[1] == "flood":
        flood(argv[2], int(argv[3]), argv[4], argv[5])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
