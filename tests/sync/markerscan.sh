#!/usr/bin/env bash
# markerscan.sh - fail if a marker string appears anywhere in the given files and folders.
#
#   bash tests/sync/markerscan.sh MARKER PATH...
#
# Searches every regular file under each PATH (symlinks not followed) for MARKER encoded as
# UTF-8, UTF-16LE, UTF-16BE, and as base64 and base64url at all three byte alignments (the
# characters that only the marker's own bits determine, so a hit does not depend on what comes
# before it). Prints one line per hit (file, offset, encoding) and exits 1 on any; prints the
# number of files and bytes scanned and exits 0 when clean; exits 2 on a usage error or when a
# PATH does not exist (a scan of nothing must not pass). Reads files in overlapping windows, so
# memory stays small whatever their size. Use a marker of 12+ random-looking characters, so a
# hit is never chance.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: markerscan.sh MARKER PATH..." >&2
    exit 2
fi
exec python3 - "$@" <<'PY'
import base64, os, sys
sys.excepthook = lambda t, v, tb: (print("markerscan: %s" % v, file=sys.stderr), os._exit(2))

marker = sys.argv[1].encode("utf-8")
paths = sys.argv[2:]
if len(marker) < 8:
    print("markerscan: the marker needs 8 or more bytes", file=sys.stderr)
    sys.exit(2)

def b64_cores(alphabet_url):
    out = []
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + marker)
        if alphabet_url:
            enc = enc.replace(b"+", b"-").replace(b"/", b"_")
        first = -(-8 * k // 6)                  # ceil: first char made of marker bits only
        last = (8 * (k + len(marker))) // 6     # chars [first, last) are marker bits only
        out.append((("base64url" if alphabet_url else "base64") + "@%d" % k, enc[first:last]))
    return out

needles = [("utf-8", marker),
           ("utf-16le", sys.argv[1].encode("utf-16-le")),
           ("utf-16be", sys.argv[1].encode("utf-16-be"))]
needles += b64_cores(False) + [n for n in b64_cores(True) if n[1] not in [m for _, m in b64_cores(False)]]
longest = max(len(n) for _, n in needles)
WIN = 1 << 20

hits = 0
files = 0
total = 0

def scan(path):
    global hits, files, total
    files += 1
    try:
        f = open(path, "rb")
    except OSError as e:
        print("markerscan: cannot read %s: %s" % (path, e.strerror), file=sys.stderr)
        sys.exit(2)
    with f:
        base = 0
        tail = b""
        while True:
            chunk = f.read(WIN)
            if not chunk:
                break
            buf = tail + chunk
            start = base - len(tail)
            for name, n in needles:
                i = buf.find(n)
                while i >= 0:
                    # a hit wholly inside the carried tail was reported last round
                    if i + len(n) > len(tail):
                        print("HIT %s offset %d (%s)" % (path, start + i, name))
                        hits += 1
                    i = buf.find(n, i + 1)
            total += len(chunk)
            base += len(chunk)
            tail = buf[-(longest - 1):]

for p in paths:
    if not os.path.lexists(p):
        print("markerscan: no such path: %s" % p, file=sys.stderr)
        sys.exit(2)
    if os.path.isfile(p) and not os.path.islink(p):
        scan(p)
        continue
    for root, dirs, names in os.walk(p, followlinks=False):
        for n in names:
            fp = os.path.join(root, n)
            if os.path.isfile(fp) and not os.path.islink(fp):
                scan(fp)

if hits:
    print("markerscan: %d hit(s) in %d files" % (hits, files))
    sys.exit(1)
print("markerscan: clean (%d files, %d bytes)" % (files, total))
PY
