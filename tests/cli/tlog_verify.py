#!/usr/bin/env python3
"""tlog_verify.py - an independent verifier of Defter's log proofs and checkpoints.

Standard library only; written from RFC 9162 (sections 2.1.3.2 and 2.1.4.2), C2SP signed-note
and tlog-checkpoint, and RFC 8032 (Ed25519), not from Defter's C code.

  tlog_verify.py inclusion PROOF.json LOG.json VKEY   proof from `defter --json prove ID`
  tlog_verify.py consistency PROOF.json LOG.json      proof from `defter --json prove --consistency`
  tlog_verify.py checkpoint NOTE VKEY [SIZE]          a checkpoint from `defter checkpoint`
  tlog_verify.py cosigned NOTE VKEY WVKEY...          a checkpoint and its witness cosignatures
  tlog_verify.py witness-vkey NAME SEEDHEX            a test witness's verifier key (type 0x04)
  tlog_verify.py cosign NOTE NAME SEEDHEX TIME        NOTE with a cosignature/v1 line added

LOG.json is `defter --json log --envelopes`: leaf hashes are recomputed from the envelopes.
Exit 0 when everything verifies, 1 (with a message) otherwise.
"""
import base64
import hashlib
import json
import sys


def fail(msg):
    print("tlog_verify: " + msg, file=sys.stderr)
    sys.exit(1)


def b64(s):
    try:
        raw = base64.b64decode(s, validate=True)
    except Exception:
        fail("bad base64 %r" % s)
    if base64.b64encode(raw).decode() != s:
        fail("non-canonical base64 %r" % s)
    return raw


def h32(s):
    raw = b64(s)
    if len(raw) != 32:
        fail("hash is not 32 bytes")
    return raw


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(leaves):
    """RFC 9162 section 2.1.1, recursively."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k << 1 < n:
        k <<= 1
    return node(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, r1, r2, proof):
    """RFC 9162 section 2.1.4.2."""
    if m == 0 or m > n:
        return False
    if m == n:
        return not proof and r1 == r2
    if not proof:
        return False
    if m & (m - 1) == 0:
        proof = [r1] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == r1 and sr == r2


# ---- Ed25519 verification (RFC 8032 section 5.1.7), slow but plain ----

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
I = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % P
    B = (y1 + x1) * (y2 + x2) % P
    C = 2 * t1 * t2 * D % P
    Dd = 2 * z1 * z2 % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _eq(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * I % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


GY = 4 * pow(5, P - 2, P) % P
G = (_recover_x(GY, 0), GY, 1, _recover_x(GY, 0) * GY % P)


def ed25519_verify(pub, msg, sig):
    if len(pub) != 32 or len(sig) != 64:
        return False
    A = _decompress(pub)
    R = _decompress(sig[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % L
    return _eq(_mul(s, G), _add(R, _mul(h, A)))


def _compress(p):
    x, y, z, _ = p
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed25519_public(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    return a, h[32:], _compress(_mul(a, G))


def ed25519_sign(seed, msg):
    """RFC 8032 section 5.1.6 (for test witnesses only)."""
    a, prefix, pub = ed25519_public(seed)
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % L
    R = _compress(_mul(r, G))
    h = int.from_bytes(hashlib.sha512(R + pub + msg).digest(), "little") % L
    return R + ((r + h * a) % L).to_bytes(32, "little")


def cosig_message(text, ts):
    return ("cosignature/v1\ntime %d\n" % ts).encode() + text.encode()


# ---- C2SP signed notes and checkpoints ----

def parse_vkey(vkey, alg=1):
    parts = vkey.split("+", 2)
    if len(parts) != 3 or len(parts[1]) != 8:
        fail("bad verifier key")
    name, kid, key = parts[0], bytes.fromhex(parts[1]), b64(parts[2])
    if len(key) != 33 or key[0] != alg:
        fail("verifier key is not of type %d" % alg)
    if hashlib.sha256(name.encode() + b"\n" + key).digest()[:4] != kid:
        fail("verifier key id does not match")
    return name, kid, key[1:]


def open_checkpoint(note, vkey):
    """Returns (origin, size, root) of a checkpoint signed by vkey."""
    name, kid, pub = parse_vkey(vkey)
    if not note.endswith("\n"):
        fail("note does not end in a newline")
    sep = note.rfind("\n\n")
    if sep < 0:
        fail("note has no blank line")
    text, sigs = note[: sep + 1], note[sep + 2:]
    good = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            fail("bad signature line")
        kname, _, sig = line[2:].partition(" ")
        raw = b64(sig)
        if kname == name and raw[:4] == kid:
            if not ed25519_verify(pub, text.encode(), raw[4:]):
                fail("bad signature by " + name)
            good = True
    if not good:
        fail("checkpoint not signed by " + name)
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        fail("checkpoint body is not three lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if origin != name:
        fail("origin does not match the key name")
    expect = "defter.vault/" + hashlib.sha256(pub).hexdigest()[:16]
    if origin != expect:
        fail("origin is not defter.vault/ + 16 hex digits of SHA-256 of the key")
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        fail("bad size")
    return origin, int(size), h32(root)


def log_leaves(path):
    log = json.load(open(path))
    leaves = []
    for i, e in enumerate(log["entries"]):
        if e["index"] != i:
            fail("log index gap at %d" % i)
        lh = leaf_hash(base64.b64decode(e["envelope"]))
        if lh != h32(e["leaf_hash"]):
            fail("leaf_hash of entry %d is not SHA-256(0x00 || envelope)" % i)
        leaves.append(lh)
    if log["size"] != len(leaves):
        fail("log size differs from its entries")
    return leaves


def main(argv):
    if len(argv) >= 5 and argv[1] == "inclusion":
        p = json.load(open(argv[2]))
        leaves = log_leaves(argv[3])
        origin, size, root = open_checkpoint(p["checkpoint"], argv[4])
        if size != p["size"]:
            fail("checkpoint size differs from the proof's")
        leaf = h32(p["leaf_hash"])
        if leaves[p["index"]] != leaf:
            fail("leaf_hash is not the envelope's")
        proof = [h32(x) for x in p["proof"]]
        if not verify_inclusion(p["index"], p["size"], leaf, proof, root):
            fail("inclusion proof does not verify")
        if mth(leaves[: p["size"]]) != root:
            fail("checkpoint root is not the root of the log's leaves")
        print("inclusion ok: index %d in size %d" % (p["index"], p["size"]))
        return 0
    if len(argv) >= 4 and argv[1] == "consistency":
        p = json.load(open(argv[2]))
        leaves = log_leaves(argv[3])
        m, n = p["old_size"], p["new_size"]
        r1, r2 = h32(p["old_root"]), h32(p["new_root"])
        if mth(leaves[:m]) != r1 or mth(leaves[:n]) != r2:
            fail("roots are not those of the log's leaves")
        if not verify_consistency(m, n, r1, r2, [h32(x) for x in p["proof"]]):
            fail("consistency proof does not verify")
        print("consistency ok: %d -> %d" % (m, n))
        return 0
    if len(argv) >= 4 and argv[1] == "checkpoint":
        origin, size, root = open_checkpoint(open(argv[2], encoding="utf-8").read(), argv[3])
        if len(argv) >= 5 and size != int(argv[4]):
            fail("checkpoint size %d, expected %s" % (size, argv[4]))
        print("checkpoint ok: %s size %d" % (origin, size))
        return 0
    if len(argv) >= 4 and argv[1] == "witness-vkey":
        pub = ed25519_public(bytes.fromhex(argv[3]))[2]
        key = b"\x04" + pub
        kid = hashlib.sha256(argv[2].encode() + b"\n" + key).digest()[:4]
        print("%s+%s+%s" % (argv[2], kid.hex(), base64.b64encode(key).decode()))
        return 0
    if len(argv) >= 6 and argv[1] == "cosign":
        note = open(argv[2], encoding="utf-8").read()
        name, seed, ts = argv[3], bytes.fromhex(argv[4]), int(argv[5])
        text = note[: note.rfind("\n\n") + 1]
        pub = ed25519_public(seed)[2]
        kid = hashlib.sha256(name.encode() + b"\n\x04" + pub).digest()[:4]
        sig = ed25519_sign(seed, cosig_message(text, ts))
        raw = kid + ts.to_bytes(8, "big") + sig
        sys.stdout.write(note + "\u2014 %s %s\n" % (name, base64.b64encode(raw).decode()))
        return 0
    if len(argv) >= 5 and argv[1] == "cosigned":
        note = open(argv[2], encoding="utf-8").read()
        origin, size, root = open_checkpoint(note, argv[3])
        text = note[: note.rfind("\n\n") + 1]
        lines = note[note.rfind("\n\n") + 2:].splitlines()
        for w in argv[4:]:
            name, kid, pub = parse_vkey(w, 4)
            good = False
            for line in lines:
                kname, _, sig = line[2:].partition(" ")
                raw = b64(sig)
                if kname == name and raw[:4] == kid and len(raw) == 76:
                    ts = int.from_bytes(raw[4:12], "big")
                    if not ed25519_verify(pub, cosig_message(text, ts), raw[12:]):
                        fail("bad cosignature by " + name)
                    good = True
            if not good:
                fail("no cosignature by " + name)
        print("cosigned ok: %s size %d, %d witnesses" % (origin, size, len(argv) - 4))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
