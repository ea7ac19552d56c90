#!/usr/bin/env bash
# brief.sh - `defter brief`: PDF/A-3b briefings in Crimean Tatar, Ukrainian and English whose text
# pdftotext returns exactly, with the verified bundle attached (pdfdetach, then defter-verify),
# a QR code per evidence proof that zbarimg decodes to the bundle's own proof, embedded fonts,
# markup in names kept as text, masked witnesses, a contents page for several cases.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
VERIFY=${DEFTER_VERIFY:-$(dirname "$D")/defter-verify}
for t in pdftotext pdfdetach pdfinfo pdffonts pdftoppm zbarimg /usr/bin/python3; do
    command -v "$t" >/dev/null || fail "missing $t (scripts/deps.sh)"
done
/usr/bin/python3 -c 'import weasyprint' 2>/dev/null || fail "missing WeasyPrint (Debian weasyprint)"

expect 0 "$D" init --kdf interactive
expect 0 "$D" --json add case "title=Справа Ахтема Чийгоза / Ahtem Çiygoz davası" "summary=Арешт 29 січня 2015 року; qaraq 2017" "case_number=1-7/2017"
C1=$(json 'J["id"]')
expect 0 "$D" --json add person "name=Ахтем Чийгоз" "name_variants=Ahtem Çiygoz"
P1=$(json 'J["id"]')
expect 0 "$D" --json add person "name=<b>Bold</b> & <script>alert(1)</script> Şükrü"
P2=$(json 'J["id"]')
expect 0 "$D" --json add person "name=Maskedwitness Zyxq" "birth_date=1980-02-02"
P3=$(json 'J["id"]')
expect 0 "$D" --json add proceeding "title=Кримінальне провадження № 42" "court=Верховний суд Криму"
PR=$(json 'J["id"]')
expect 0 "$D" --json add event "title=Засідання суду / Mahkeme oturımı" "date=2017-09-11"
EV=$(json 'J["id"]')
expect 0 "$D" --json add event "title=Обшук / Axtaruv" "date=2015-01-29"
EV2=$(json 'J["id"]')
expect 0 "$D" link "$P1" "$C1" --role defendant
expect 0 "$D" link "$P2" "$C1" --role victim
expect 0 "$D" link "$P3" "$C1" --role witness
expect 0 "$D" link "$PR" "$C1" --role proceeding
expect 0 "$D" link "$EV" "$PR" --role hearing
expect 0 "$D" link "$EV2" "$C1" --role event
printf 'protocol of the search\n' >"$T/protocol.txt"
head -c 2000 /dev/urandom >"$T/photo.jpg"
expect 0 "$D" --json attach "$C1" "$T/protocol.txt" "$T/photo.jpg"
expect 0 "$D" --json add case "title=Case of Ilmi Umerov" "summary=second case"
C2=$(json 'J["id"]')

for lang in crh uk en; do
    expect 0 "$D" brief --case "$C1" --lang "$lang" --profile diplomatic --format pdf "$T/$lang.pdf"
    pdftotext -layout "$T/$lang.pdf" "$T/$lang.txt" || fail "pdftotext $lang"
    # names and values come back exactly, in every script
    for s in "Справа Ахтема Чийгоза / Ahtem Çiygoz davası" "Ахтем Чийгоз" "Кримінальне провадження № 42" \
        "Засідання суду / Mahkeme oturımı" "1-7/2017" "<b>Bold</b> & <script>alert(1)</script> Şükrü"; do
        grep -qF -- "$s" "$T/$lang.txt" || fail "$lang: '$s' not in the text of the PDF"
        ok
    done
    grep -q "Maskedwitness" "$T/$lang.txt" && fail "$lang: the masked witness is named"
    ok
    # attached bundle, verifiable, named after the case
    pdfdetach -list "$T/$lang.pdf" >"$T/list" || fail "pdfdetach"
    grep -q "$C1.zip" "$T/list" || fail "$lang: no attached bundle: $(cat "$T/list")"
    rm -f "$T/att.zip"
    pdfdetach -save 1 -o "$T/att.zip" "$T/$lang.pdf" || fail "pdfdetach -save"
    expect 0 "$VERIFY" --json "$T/att.zip"
    printf '%s' "$out" >"$T/report-$lang.json"
    # PDF/A-3b identification and embedded fonts
    pdfinfo -meta "$T/$lang.pdf" | grep -q 'pdfaid:part="3" pdfaid:conformance="B"' || fail "$lang: not PDF/A-3b"
    ok
    pdffonts "$T/$lang.pdf" | awk 'NR > 2 && $(NF-4) != "yes" { bad = 1 } END { exit bad }' ||
        fail "$lang: a font is not embedded: $(pdffonts "$T/$lang.pdf")"
    ok
done
# the catalogue's text in each language
grep -q "Roller boyunca şahıslar" "$T/crh.txt" || fail "Crimean Tatar headings"
grep -q "şaat" "$T/crh.txt" || fail "Crimean Tatar role name"
grep -q "Особи за ролями" "$T/uk.txt" || fail "Ukrainian headings"
grep -q "обвинувачений" "$T/uk.txt" || fail "Ukrainian role name"
grep -q "Persons by role" "$T/en.txt" || fail "English headings"
grep -q "Hearings" "$T/en.txt" || fail "hearings of the proceeding"
ok
# the timeline is in date order
python3 - "$T/en.txt" <<'EOF' || fail "timeline order"
import sys
t = open(sys.argv[1], encoding="utf-8").read()
a, b = t.find("2015-01-29"), t.find("Timeline")
assert b >= 0 and a > b, "timeline"
EOF
ok

# every QR code decodes to the proof of an evidence file in the attached bundle
pdftoppm -r 200 -png "$T/en.pdf" "$T/page"
zbarimg -q --raw -Sdisable -Sqrcode.enable "$T"/page-*.png >"$T/qr.txt" 2>/dev/null || fail "zbarimg found no QR code"
python3 - "$T/qr.txt" "$T/report-en.json" <<'EOF' || fail "QR codes do not match the bundle"
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
report = json.load(open(sys.argv[2]))
codes = [c for c in text.split("defter-proof/v1\n") if c.strip()]
entries = {e["index"]: e for e in report["entries"]}
shas = {e["sha256"] for e in report["evidence"]}
assert len(codes) == len(report["evidence"]) == 2, (len(codes), len(report["evidence"]))
for c in codes:
    kv = dict(line.split(" ", 1) for line in c.strip().split("\n"))
    e = entries[int(kv["index"])]
    assert kv["origin"] == report["log"]["origin"]
    assert kv["leaf"] == e["leaf_hash"] and kv["root"] == e["root"] and int(kv["size"]) == e["size"]
    assert kv["sha256"] in shas
EOF
ok

# HTML: markup stays text, the bundle is a download link
expect 0 "$D" brief --case "$C1" --lang en --profile court --format html "$T/b.html"
grep -q "<script>alert" "$T/b.html" && fail "markup from a name reached the HTML"
grep -qF "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; Şükrü" "$T/b.html" ||
    fail "escaped name not in the HTML"
grep -q "data:application/zip;base64," "$T/b.html" || fail "no bundle in the HTML"
ok

# several cases: a contents page, then each case
expect 0 "$D" brief --cases "$C1,$C2" --lang en --profile court --format pdf "$T/two.pdf"
pdftotext "$T/two.pdf" - | grep -q "Contents" || fail "no contents page"
[ "$(pdfdetach -list "$T/two.pdf" | head -n 1)" = "2 embedded files" ] || fail "two bundles"
ok

# bad input: one line, nothing written
expect 2 "$D" brief --case "$C1" --lang en --profile court "$T/x.pdf"
expect 2 "$D" brief --case "$C1" --lang en --profile court --format docx "$T/x.pdf"
expect 1 "$D" brief --case "$C1" --lang fr --profile court --format pdf "$T/x.pdf"
expect 1 "$D" brief --case "$P1" --lang en --profile court --format pdf "$T/x.pdf"
expect 1 "$D" brief --case "$C1" --lang en --profile nonsense --format pdf "$T/x.pdf"
[ ! -e "$T/x.pdf" ] || fail "a failed briefing left a file"
ls "$T" | grep -q "x.pdf.tmp" && fail "temporary file left"
ok
echo "brief.sh: $checks checks passed"
