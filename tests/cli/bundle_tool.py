#!/usr/bin/env python3
"""bundle_tool.py - test helper for bundles (standard library only).

  bundle_tool.py list BUNDLE                       entry names, one a line
  bundle_tool.py cat BUNDLE NAME                   an entry's bytes on stdout
  bundle_tool.py rewrite BUNDLE OUT MUTATION...    re-pack with changed entries, in the exact
                                                   layout of docs/bundle-format.md (CRCs fixed)
  bundle_tool.py markers BUNDLE MARKER...          exit 1 when a marker is in the file (raw UTF-8,
                                                   base64 at every alignment, UTF-16LE/BE)
  bundle_tool.py lie BUNDLE OUT NAME               the central directory says NAME is 1 byte longer

Mutations: set:NAME=FILE (replace), add:NAME=FILE (append an entry, even a duplicate),
del:NAME, json:NAME=PYEXPR (J is the parsed entry; PYEXPR changes it in place, e.g.
"J['x']=1"), sub:NAME=OLD=>NEW (replace a text once; fails when OLD is absent).
"""
import base64
import json
import struct
import sys
import zlib


def read_entries(path):
    d = open(path, "rb").read()
    eocd = len(d) - 22
    n, cd_size, cd_off = struct.unpack("<HII", d[eocd + 10:eocd + 20])
    out, pos = [], cd_off
    for _ in range(n):
        f = struct.unpack("<IHHHHHHIIIHHHHHII", d[pos:pos + 46])
        nl, el, cl, local = f[10], f[11], f[12], f[16]
        name = d[pos + 46:pos + 46 + nl].decode()
        lnl, lel = struct.unpack("<HH", d[local + 26:local + 30])
        start = local + 30 + lnl + lel
        out.append([name, d[start:start + f[9]]])
        pos += 46 + nl + el + cl
    return out


def write_entries(path, entries, lie=None):
    body, central = bytearray(), bytearray()
    for name, data in entries:
        nb = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        off = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 10, 0, 0, 0, 0x21, crc, len(data),
                            len(data), len(nb), 0) + nb + data
        size = len(data) + (1 if name == lie else 0)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x033F, 10, 0, 0, 0, 0x21, crc,
                               size, size, len(nb), 0, 0, 0, 0, 0x81A40000, off) + nb
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central),
                       len(body), 0)
    open(path, "wb").write(bytes(body + central + eocd))


def find(entries, name):
    for e in entries:
        if e[0] == name:
            return e
    sys.exit("no entry " + name)


def markers(path, ms):
    d = open(path, "rb").read()
    for m in ms:
        mb = m.encode()
        forms = [mb, m.encode("utf-16-le"), m.encode("utf-16-be")]
        for k in range(3):
            e = base64.b64encode(b"\0" * k + mb)
            forms.append(e[4:-4])
        for f in forms:
            if f and f in d:
                print("marker %r found as %r" % (m, f[:40]))
                return 1
    return 0


def main(argv):
    if argv[1] == "list":
        for name, _ in read_entries(argv[2]):
            print(name)
        return 0
    if argv[1] == "cat":
        sys.stdout.buffer.write(find(read_entries(argv[2]), argv[3])[1])
        return 0
    if argv[1] == "markers":
        return markers(argv[2], argv[3:])
    if argv[1] == "lie":
        write_entries(argv[3], read_entries(argv[2]), lie=argv[4])
        return 0
    if argv[1] == "rewrite":
        entries = read_entries(argv[2])
        for m in argv[4:]:
            kind, _, rest = m.partition(":")
            if kind == "del":
                entries = [e for e in entries if e[0] != rest]
                continue
            name, _, arg = rest.partition("=")
            if kind == "set":
                find(entries, name)[1] = open(arg, "rb").read()
            elif kind == "add":
                entries.append([name, open(arg, "rb").read()])
            elif kind == "json":
                e = find(entries, name)
                J = json.loads(e[1])
                exec(arg, {"J": J})
                e[1] = json.dumps(J, separators=(",", ":"), sort_keys=True,
                                  ensure_ascii=False).encode()
            elif kind == "sub":
                e = find(entries, name)
                old, _, new = arg.partition("=>")
                if old.encode() not in e[1]:
                    sys.exit("sub: %r not in %s" % (old, name))
                e[1] = e[1].replace(old.encode(), new.encode(), 1)
            else:
                sys.exit("unknown mutation " + m)
        write_entries(argv[3], entries)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
