#!/usr/bin/env bash
# search.sh - cross-script search through the CLI: a vault with the dev set (data/search-dev)
# added in one batch with `add --from-json`, every query through `defter --json search`,
# scored with score.py against the acceptance figures; then duplicates and merge / undo.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${DEFTER:-build/asan/defter}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DEFTER_VAULT=$tmp/vault DEFTER_PASSPHRASE_FILE=$tmp/pass
printf 'search test passphrase\n' >"$tmp/pass"
"$D" init --kdf interactive >/dev/null

python3 - "$tmp/batch.json" <<'PY'
import csv, json, sys
rows = []
for f, col in (("data/search-dev/names.tsv", "variant"), ("data/search-dev/distractors.tsv", "variant")):
    with open(f, encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            rows.append({"type": "person", "name": r[col]})
json.dump(rows, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
PY
"$D" add --from-json "$tmp/batch.json" >/dev/null

# every query, one vault open each, as the acceptance check runs them
qid=0
: >"$tmp/RUN.tsv"
while IFS=$'\t' read -r query _cluster _kind; do
    qid=$((qid + 1))
    "$D" --json search "$query" --type person --limit 10 >"$tmp/out.json"
    python3 -c '
import json, sys
hits = json.load(open(sys.argv[1], encoding="utf-8"))["hits"]
for i, h in enumerate(hits, 1):
    assert "why" in h and isinstance(h["score"], (int, float))
    print(sys.argv[2], i, h["title"], sep="\t")
' "$tmp/out.json" "$qid" >>"$tmp/RUN.tsv"
done < <(tail -n +2 data/search-dev/queries.tsv)

python3 data/search-dev/score.py "$tmp/RUN.tsv" | tee "$tmp/score.txt"
python3 - "$tmp/score.txt" <<'PY'
import sys
cols = None
for line in open(sys.argv[1]):
    parts = line.split()
    if parts and parts[0] == "kind":
        cols = parts
    if parts and parts[0] == "ALL":
        v = dict(zip(cols[1:], map(float, parts[1:])))
        ok = (v["recall@k"] >= 0.98 and v["R_prec"] >= 0.92 and v["distr@R"] <= 0.025
              and v["variant_recall@k"] >= 0.93)
        sys.exit(0 if ok else "scores below the acceptance figures")
sys.exit("no ALL row")
PY

# bad queries: clear errors, never a crash
"$D" --json search "   " --type person | python3 -c 'import json,sys; assert json.load(sys.stdin)["hits"] == []'
if "$D" search "$(head -c 2000 /dev/zero | tr '\0' a)" 2>"$tmp/err"; then exit 1; fi
grep -q "too long" "$tmp/err"

# duplicates and merge: two records of one man, a case linked to the second
ids=$(printf '[{"type":"person","name":"Server Mustafayev"},{"type":"person","name":"Сервер Мустафаев"},{"type":"case","title":"Mustafayev case"}]' |
    "$D" --json add --from-json - | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("ids",d); print(" ".join(d))')
read -r keep other case <<<"$ids"
"$D" link "$case" "$other" --role lawyer >/dev/null
"$D" --json duplicates --type person --limit 100000 | python3 -c '
import json, sys
pairs = json.load(sys.stdin)["pairs"]
want = set(sys.argv[1:3])
assert any({p["a"], p["b"]} == want for p in pairs), pairs
' "$keep" "$other"
"$D" merge "$keep" "$other" >/dev/null
"$D" --json search "Сервер Мустафаев" --type person | python3 -c '
import json, sys
ids = [h["id"] for h in json.load(sys.stdin)["hits"]]
assert sys.argv[1] in ids and sys.argv[2] not in ids, ids
' "$keep" "$other"
"$D" --json show "$keep" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert any(x["other"] == sys.argv[1] and x["role"] == "lawyer" for x in r["relations"]), r
' "$case"
if "$D" merge "$keep" "$keep" 2>/dev/null; then exit 1; fi
"$D" merge --undo "$keep" "$other" >/dev/null
"$D" --json search "Сервер Мустафаев" --type person | python3 -c '
import json, sys
ids = [h["id"] for h in json.load(sys.stdin)["hits"]]
assert sys.argv[1] in ids, ids
' "$other"
"$D" --json show "$other" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert any(x["other"] == sys.argv[1] for x in r["relations"]), r
assert any("merge" in json.dumps(h) for h in r["history"]), "history lost"
' "$case"
"$D" verify >/dev/null
echo "search.sh: ok"
