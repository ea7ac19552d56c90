#!/usr/bin/env python3
"""evilproxy.py - a malicious sync server, for tests: an HTTP proxy in front of real
`defter serve` processes that misbehaves on command.

    python3 tests/sync/evilproxy.py CONTROL_DIR

Listens on 127.0.0.1 (a port the system picks) and prints "http://127.0.0.1:PORT" as its first
stdout line. Before each request it reads CONTROL_DIR/upstream ("127.0.0.1:PORT", the server
the request goes to: switch it to route clients to a second server started on a copy of the
store, a real fork) and CONTROL_DIR/mode, one of:

    pass      forward everything unchanged
    drop      leave one envelope (kind 1) out of the next pull that carries one
    reorder   swap the first two entries of the next pull that carries two or more
    flip      flip one byte inside an envelope of the next pull that carries one
    record    keep the next signed checkpoint answer (and forward it unchanged)
    replay    answer every checkpoint request with the one kept by `record`

An attack fires once per write of the mode file (CONTROL_DIR/fired then holds its name), then
the proxy forwards unchanged until the mode is written again. Requests are forwarded with their
Host header, path and signature headers untouched (the server rebuilds the signed target URI
from them), so every answer it tampers with is one the real server signed or produced. Never
used outside tests; listens on loopback only.
"""
import http.client
import http.server
import os
import socketserver
import struct
import sys
import threading

CTL = sys.argv[1]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection", "content-length"}
lock = threading.Lock()
state = {"stamp": None, "fired": False, "kept": None}


def read(name, default):
    try:
        with open(os.path.join(CTL, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


def mode_now():
    """The mode, and whether its attack is still to fire (re-armed by each write)."""
    p = os.path.join(CTL, "mode")
    try:
        st = os.stat(p)
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
    except OSError:
        stamp = None
    with lock:
        if stamp != state["stamp"]:
            state["stamp"] = stamp
            state["fired"] = False
        return read("mode", "pass"), state["fired"]


def fire(mode):
    with lock:
        state["fired"] = True
    with open(os.path.join(CTL, "fired.tmp"), "w") as f:
        f.write(mode + "\n")
    os.replace(os.path.join(CTL, "fired.tmp"), os.path.join(CTL, "fired"))


def entries(body):
    out, off = [], 0
    while off + 5 <= len(body):
        n = struct.unpack(">I", body[off + 1:off + 5])[0]
        out.append(body[off:off + 5 + n])
        off += 5 + n
    return out if off == len(body) else None


def tamper_pull(mode, body):
    es = entries(body)
    if es is None:
        return None
    if mode == "drop":
        for i, e in enumerate(es):
            if e[0] == 1:
                return b"".join(es[:i] + es[i + 1:])
    elif mode == "reorder" and len(es) >= 2 and es[0] != es[1]:
        return b"".join([es[1], es[0]] + es[2:])
    elif mode == "flip":
        for i, e in enumerate(es):
            if e[0] == 1 and len(e) > 6:
                b = bytearray(e)
                b[5 + (len(e) - 5) // 2] ^= 0x01
                return b"".join(es[:i] + [bytes(b)] + es[i + 1:])
    return None


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tests read stdout's first line only
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        mode, fired = mode_now()
        path = self.path.split("?", 1)[0]
        is_pull = self.command == "GET" and path.endswith("/envelopes")
        is_cp = self.command == "GET" and path.endswith("/checkpoint")
        if mode == "replay" and is_cp and state["kept"] is not None:
            st, hdrs, data = state["kept"]
            fire(mode)
            return self.answer(st, hdrs, data)
        host, port = read("upstream", "").rsplit(":", 1)
        up = http.client.HTTPConnection(host, int(port), timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if n > 0 or self.command in ("POST", "PUT"):
            hdrs["Content-Length"] = str(len(body))
        try:
            up.request(self.command, self.path, body=body, headers=hdrs)
            r = up.getresponse()
            data = r.read()
            rh = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
            status = r.status
        except OSError:
            self.send_error(502)
            return
        finally:
            up.close()
        if not fired and status == 200:
            if is_pull and mode in ("drop", "reorder", "flip"):
                t = tamper_pull(mode, data)
                if t is not None:
                    data = t
                    fire(mode)
            elif is_cp and mode == "record":
                state["kept"] = (status, rh, data)
                fire(mode)
        self.answer(status, rh, data)

    def answer(self, status, hdrs, data):
        self.send_response(status)
        for k, v in hdrs:
            if k.lower() not in ("date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Proxy)
print("http://127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
