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
# run CMD... with stdin from $IN: prints "wall_us cpu_us" (cpu: user + system of the child)
timed() {
    python3 -c '
import os, resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
with open(os.environ.get("IN", "/dev/null"), "rb") as i, open(os.devnull, "wb") as o:
    subprocess.run(sys.argv[1:], stdin=i, stdout=o, check=True)
t = time.monotonic() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(int(t * 1e6), int(cpu * 1e6))' "$@"
}
read -r plain plain_cpu < <(IN=$tmp/people.sql timed sqlite3 "$tmp/plain.db")
read -r defter defter_cpu < <(timed "$D" add person --from-json "$tmp/people.json")
unlock=0
unlock_cpu=0
for _ in 1 2 3; do
    read -r w c < <(timed "$D" --json log)
    unlock=$((unlock + w / 3))
    unlock_cpu=$((unlock_cpu + c / 3))
done
python3 - "$N" "$plain" "$defter" "$unlock" "$plain_cpu" "$defter_cpu" "$unlock_cpu" <<'PY'
import sys
n, plain, defter, unlock, pc, dc, uc = (int(x) for x in sys.argv[1:])
print("cli batch add: %d persons from a JSON file (load %s)" % (n, open("/proc/loadavg").read().split()[0]))
print("  defter add person --from-json:  %8.3f s  %9.0f records/s  cpu %.3f s" % (defter / 1e6, n * 1e6 / defter, dc / 1e6))
print("  sqlite3 < inserts (one WAL tx): %8.3f s  %9.0f records/s  cpu %.3f s" % (plain / 1e6, n * 1e6 / plain, pc / 1e6))
print("  defter unlock (open + Argon2id): %7.3f s  cpu %.3f s" % (unlock / 1e6, uc / 1e6))
print("  ratio defter/sqlite3: %.2fx; without the unlock: %.2fx (goal <= 7x); cpu without the unlock: %.2fx"
      % (defter / plain, (defter - unlock) / plain, (dc - uc) / pc))
PY
