#!/usr/bin/env bash
# brief_bench.sh - a briefing of 500 records (5 cases of 100: persons by role, events,
# proceedings, sources, notes, 2 evidence files each) on the release build:
#   - `defter brief --cases ... --format pdf` end to end (Defter + WeasyPrint);
#   - the same briefing as HTML (`--format html`: Defter's own work, no PDF);
#   - WeasyPrint (the Python API, PDF/A-3b, data: URLs only, as src/bundle/brief.c calls it)
#     on that HTML, beside Chromium headless printing the same HTML (`chromium --headless
#     --print-to-pdf`);
# and prints the figures, WeasyPrint / Chromium, and Defter's own share of the PDF briefing
# (HTML time / (HTML time + WeasyPrint time); goal <= 10 %). Best of BRIEF_BENCH_RUNS (default
# 2) runs each. Not part of `make test`. Temporary files under $TMPDIR.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
D=$ROOT/build/defter
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
RUNS=${BRIEF_BENCH_RUNS:-2}
[ -x "$D" ] || { echo "brief bench: make build first"; exit 0; }
/usr/bin/python3 -c 'import weasyprint' 2>/dev/null || { echo "brief bench: no WeasyPrint"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/defter-brief-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export DEFTER_VAULT="$W/vault" DEFTER_PASSPHRASE_FILE="$W/pass"
printf 'bench\n' >"$W/pass"
"$D" init --kdf interactive >/dev/null

/usr/bin/python3 - "$W/records.json" <<'PY'
import json, sys
roles = ["victim", "witness", "defendant", "lawyer", "victim", "witness"]
names = ["Bekirov", "Seitova", "Чийгоз", "Умеров", "Kurtseitov", "Asanova", "Ібрагімов"]
recs, links = [], []
for c in range(5):
    ck = "c%d" % c
    recs.append({"key": ck, "type": "case", "title": "Case %d / Справа %d / Dava %d" % (c, c, c),
                 "summary": "searches, arrests and the trial of case %d" % c,
                 "case_number": "1-%d/2017" % (c + 1)})
    for i in range(60):
        k = "%s-p%d" % (ck, i)
        recs.append({"key": k, "type": "person",
                     "name": "%s %s %d" % (["Ahtem", "Ilmi", "Nariman", "Server"][i % 4],
                                           names[i % len(names)], i),
                     "birth_date": "19%02d-0%d-1%d" % (40 + i % 50, 1 + i % 9, i % 9),
                     "summary": "statement %d of case %d" % (i, c)})
        links.append([k, ck, roles[i % len(roles)]])
    for p in range(5):
        k = "%s-pr%d" % (ck, p)
        recs.append({"key": k, "type": "proceeding", "title": "Провадження %d-%d" % (c, p),
                     "court": "Верховний суд Криму", "case_number": "22-%d/%d" % (p, c),
                     "hearings": [{"date": "2017-0%d-1%d" % (1 + h, h), "note": "hearing %d" % h}
                                  for h in range(4)]})
        links.append([k, ck, "proceeding"])
    for e in range(25):
        k = "%s-e%d" % (ck, e)
        recs.append({"key": k, "type": "event", "title": "Обшук / search %d" % e,
                     "date": "2016-%02d-%02d" % (1 + e % 12, 1 + e % 28),
                     "summary": "the event %d of case %d" % (e, c)})
        links.append([k, ck, "hearing" if e % 5 == 0 else "event"])
    for s in range(5):
        k = "%s-s%d" % (ck, s)
        recs.append({"key": k, "type": "source", "title": "Source %d-%d" % (c, s),
                     "text": "interview transcript %d" % s})
        links.append([k, ck, "source"])
    for n in range(4):
        k = "%s-n%d" % (ck, n)
        recs.append({"key": k, "type": "note", "title": "Note %d-%d" % (c, n),
                     "text": "working note %d" % n})
        links.append([k, ck, "note"])
assert len(recs) == 500, len(recs)
json.dump({"records": recs, "links": links}, open(sys.argv[1], "w"), ensure_ascii=False)
PY
"$D" add --from-json "$W/records.json" >/dev/null
CASES=$("$D" --json list case | python3 -c 'import json,sys; print(",".join(r["id"] for r in json.load(sys.stdin)))')
for c in ${CASES//,/ }; do
    head -c 20000 /dev/urandom >"$W/photo-$c.jpg"
    printf 'protocol of the search in %s\n' "$c" >"$W/protocol-$c.txt"
    "$D" attach "$c" "$W/photo-$c.jpg" "$W/protocol-$c.txt" >/dev/null
done

best() { # "WALL CPU": best wall seconds of $RUNS runs of a command, and that run's CPU seconds
    /usr/bin/python3 - "$RUNS" "$@" <<'PY'
import resource, subprocess, sys, time
best = None
for _ in range(int(sys.argv[1])):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (sys.argv[2], p.returncode, p.stderr.decode(errors="replace")))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    best = (dt, cpu) if best is None or dt < best[0] else best
print("%.3f %.3f" % best)
PY
}

read -r t_pdf c_pdf < <(best "$D" brief --cases "$CASES" --lang en --profile court --format pdf "$W/d.pdf")
read -r t_html c_html < <(best "$D" brief --cases "$CASES" --lang en --profile court --format html "$W/b.html")
cat >"$W/weasy.py" <<'PY'
import sys, weasyprint
def fetch(url):
    if not url.startswith('data:'):
        raise ValueError('no fetching')
    return weasyprint.default_url_fetcher(url)
html = open(sys.argv[1], encoding='utf-8').read()
weasyprint.HTML(string=html, url_fetcher=fetch).write_pdf(sys.argv[2], variant='pdf/a-3b')
PY
read -r t_weasy c_weasy < <(best /usr/bin/python3 -I "$W/weasy.py" "$W/b.html" "$W/w.pdf")
pages() { pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ {print $2}'; }
printf 'brief of 500 records (5 cases), best of %s runs: wall s (CPU s)\n' "$RUNS"
printf '  defter brief --format pdf (Defter + WeasyPrint)  %7.3f (%7.3f)  %s pages, %s bytes\n' \
    "$t_pdf" "$c_pdf" "$(pages "$W/d.pdf")" "$(stat -c %s "$W/d.pdf")"
printf '  defter brief --format html (Defter alone)        %7.3f (%7.3f)  %s bytes of HTML\n' \
    "$t_html" "$c_html" "$(stat -c %s "$W/b.html")"
printf '  WeasyPrint on that HTML (PDF/A-3b)               %7.3f (%7.3f)  %s pages\n' \
    "$t_weasy" "$c_weasy" "$(pages "$W/w.pdf")"
ratio() { /usr/bin/python3 -c 'import sys; a, b = map(float, sys.argv[1:]); print("%.2f" % (a / b))' "$@"; }
share() { /usr/bin/python3 -c 'import sys; h, w = map(float, sys.argv[1:]); print("%.1f %%" % (100 * h / (h + w)))' "$@"; }
if [ -x "$CHROMIUM" ]; then
    read -r t_chr c_chr < <(best "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$W/chromium" --no-pdf-header-footer --print-to-pdf="$W/c.pdf" \
        "file://$W/b.html")
    printf '  Chromium --print-to-pdf on the same HTML         %7.3f (%7.3f)  %s pages\n' \
        "$t_chr" "$c_chr" "$(pages "$W/c.pdf")"
    printf '  WeasyPrint / Chromium: %s wall, %s CPU\n' "$(ratio "$t_weasy" "$t_chr")" "$(ratio "$c_weasy" "$c_chr")"
else
    echo "  Chromium: not installed ($CHROMIUM)"
fi
printf "  Defter's own share of the PDF briefing (goal <= 10 %%): %s wall, %s CPU\n" \
    "$(share "$t_html" "$t_weasy")" "$(share "$c_html" "$c_weasy")"
