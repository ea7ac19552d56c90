#!/usr/bin/env python3
"""build-verify-html.py SRC_DIR OUT: defter-verify.html, one self-contained file.

Inlines verify-web/style.css and verify-web/verify.js + ui.js (one script) into page.html and
pins both with their SHA-256 in the Content-Security-Policy (default-src 'none'), so no other
script or style can run in the page. Writes OUT.sha256 (sha256sum format) beside it.
"""
import base64
import hashlib
import os
import sys

src, out = sys.argv[1], sys.argv[2]
read = lambda n: open(os.path.join(src, n), encoding="utf-8").read()
script = read("verify.js") + "\n" + read("ui.js")
style = read("style.css")
for name, text in (("script", script), ("style", style)):
    if "</" in text:
        sys.exit("build-verify-html: '</' in the inlined %s would end its element" % name)
csp = lambda t: "sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()
page = read("page.html")
page = page.replace("@SCRIPT_HASH@", csp(script)).replace("@STYLE_HASH@", csp(style))
page = page.replace("@STYLE@", style).replace("@SCRIPT@", script)
data = page.encode()
tmp = out + ".tmp"
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, out)
with open(out + ".sha256", "w") as f:
    f.write("%s  %s\n" % (hashlib.sha256(data).hexdigest(), os.path.basename(out)))
