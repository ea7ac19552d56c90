#!/usr/bin/env bash
# cli_add.sh - `defter add person --from-json FILE` of N persons (default 100000) through the
# command line, beside `sqlite3` inserting the same rows (type, JSON) in one WAL transaction
# with synchronous=FULL from an SQL file. Prints both times, records/s, the ratio (goal <= 7x),
# and the ratio with defter's unlock (one Argon2id, the mean of `defter log` runs) subtracted.
# One run of each side, side by side: figures, not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${DEFTER:-$PWD/build/release/defter}
N=${N:-100000}
tmp=$(mktemp -d /tmp/defter-cli-add.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'cli add bench passphrase\n' >"$tmp/pass"
export DEFTER_PASSPHRASE_FILE=$tmp/pass DEFTER_VAULT=$tmp/vault
"$D" init --kdf interactive >/dev/null
python3 - "$N" "$tmp/people.json" "$tmp/people.sql" <<'PY'
import json, sys
n = int(sys.argv[1])
first = ["Ahtem", "Ilmi", "Refat", "Nariman", "Server", "Emil", "Mykola", "Oleksandr", "Lilia", "Zarema"]
last = ["Chiygoz", "Umerov", "Chubarov", "Dzhelyal", "Mustafayev", "Kurbedinov", "Polozov",
        "Sentsov", "Budzhurova", "Asanova"]
people = [{"name": "%s %s %d" % (first[i % 10], last[(i // 10) % 10], i),
           "name_variants": ["Вариант %d" % i],
           "summary": "Detained after a search of his home in Bakhchysaray"} for i in range(n)]
json.dump(people, open(sys.argv[2], "w"), ensure_ascii=False)
with open(sys.argv[3], "w") as f:
    f.write("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n"
            "CREATE TABLE r(id INTEGER PRIMARY KEY, type TEXT, json TEXT);\nBEGIN;\n")
    for p in people:
        s = json.dumps(dict(p, type="person"), ensure_ascii=False, sort_keys=True,
                       separators=(",", ":")).replace("'", "''")
        f.write("INSERT INTO r(type, json) VALUES('person', '%s');\n" % s)
    f.write("COMMIT;\n")
PY
now() { date +%s%N; }
t0=$(now)
sqlite3 "$tmp/plain.db" <"$tmp/people.sql" >/dev/null
t1=$(now)
"$D" add person --from-json "$tmp/people.json" >/dev/null
t2=$(now)
u0=$(now)
for _ in 1 2 3; do "$D" --json log >/dev/null; done
u1=$(now)
plain=$(((t1 - t0) / 1000))   # microseconds
defter=$(((t2 - t1) / 1000))
unlock=$(((u1 - u0) / 3000))
python3 - "$N" "$plain" "$defter" "$unlock" <<'PY'
import sys
n, plain, defter, unlock = (int(x) for x in sys.argv[1:])
print("cli batch add: %d persons from a JSON file" % n)
print("  defter add person --from-json: %8.3f s  %9.0f records/s" % (defter / 1e6, n * 1e6 / defter))
print("  sqlite3 < inserts (one WAL tx): %8.3f s  %9.0f records/s" % (plain / 1e6, n * 1e6 / plain))
print("  defter unlock (open + Argon2id): %7.3f s" % (unlock / 1e6))
print("  ratio defter/sqlite3: %.2fx; without the unlock: %.2fx (goal <= 7x)"
      % (defter / plain, (defter - unlock) / plain))
PY
