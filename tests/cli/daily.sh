#!/usr/bin/env bash
# daily.sh - the commands of issue 16 exactly as it writes them: schema (refusals with a
# suggestion, add-field/add-role), dates, restore and list --deleted, list filters, readable
# history, show of a link, the same file attached twice, CSV import/export (round trip with
# Cyrillic, Crimean Tatar and quotes; a bad row changes nothing), extract to - / a directory /
# --force, ui --open. Every refusal: one line, exit 1, and the log unchanged.
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
logsize() { "$D" --json log | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])'; }

expect 0 "$D" init --kdf interactive

# ---- the schema: `defter schema [TYPE] [--json]`, `add --help TYPE` ----
expect 0 "$D" schema
echo "$out" | grep -q '^case$' || fail "schema lists types"
echo "$out" | grep -q 'roles of links:.* victim' || fail "schema lists roles"
expect 0 "$D" schema case
echo "$out" | grep -qE '^  title +text +\(required\)' || fail "a case needs a title: $out"
echo "$out" | grep -qE '^  status +enum +open\|' || fail "status is an enum with its values"
expect 0 "$D" schema case --json
[ "$(json '[f["kind"] for f in J["types"]["case"]["fields"] if f["name"]=="date"]')" = "['date']" ] ||
    fail "schema --json kinds"
[ "$(json 'list(J["types"])')" = "['case']" ] || fail "schema TYPE shows one type"
expect 0 "$D" schema event --json
for f in date end_date date_precision place type_of_act; do
    [ "$(json "any(x['name']=='$f' for x in J['types']['event']['fields'])")" = True ] ||
        fail "HURIDOCS event field $f"
done
expect 0 "$D" schema proceeding --json
for f in case_number article court judge prosecutor investigator stage hearings; do
    [ "$(json "any(x['name']=='$f' for x in J['types']['proceeding']['fields'])")" = True ] ||
        fail "proceeding field $f"
done
expect 0 "$D" schema person --json
for f in name name_variants birth_date sex ethnicity occupation affiliation; do
    [ "$(json "any(x['name']=='$f' for x in J['types']['person']['fields'])")" = True ] ||
        fail "person field $f"
done
expect 0 "$D" add --help person
echo "$out" | grep -q "usage: defter add" || fail "add --help usage"
echo "$out" | grep -qE '^  birth_date +date' || fail "add --help TYPE shows its fields"
expect 1 "$D" schema spaceship

# ---- refusals with a suggestion; nothing written ----
s0=$(logsize)
expect 1 "$D" add case title=X staus=open
[ "$errout" = "defter: unknown field 'staus' for case; did you mean 'status'?" ] || fail "$errout"
expect 1 "$D" add person
[ "$errout" = "defter: a person needs a name" ] || fail "$errout"
expect 1 "$D" add case "summary=no title"
[ "$errout" = "defter: a case needs a title" ] || fail "$errout"
expect 1 "$D" add case title=X status=opne
echo "$errout" | grep -q "did you mean 'open'" || fail "enum suggestion: $errout"
expect 1 "$D" add person name=X nmae_variants=Y
echo "$errout" | grep -q "did you mean 'name_variants'" || fail "$errout"

# ---- dates: ISO 8601 full or partial, ~ approximate; other forms refused with a hint ----
for d in 2014 2014-02 2014-02-26 2014~ 2014-02~ 2016-02-29; do
    expect 0 "$D" add event "title=Event $d" "date=$d"
done
for d in 12.05.2016 2014-13 2014-02-30 2015-02-29 "May 2014" 14 2014-2-6 "" 2014-02-26T10:00; do
    expect 1 "$D" add event "title=Bad" "date=$d"
    echo "$errout" | grep -q "ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD" || fail "date hint for '$d': $errout"
done
[ "$(logsize)" = $((s0 + 6)) ] || fail "refusals wrote to the log"

# ---- a team extends its model knowingly: add-field / add-role (signed operations) ----
expect 1 "$D" add case title=X region=Crimea
s1=$(logsize)
expect 0 "$D" schema add-field case region text
expect 0 "$D" schema add-field person risk 'enum:low,high'
expect 0 "$D" schema add-role observer
[ "$(logsize)" = $((s1 + 3)) ] || fail "each extension is one operation"
expect 0 "$D" --json log --since "$s1"
[ "$(json '[e["action"] for e in J["entries"]]')" = "['schema', 'schema', 'schema']" ] ||
    fail "schema operations in the log"
expect 1 "$D" schema add-field case region text
expect 1 "$D" schema add-field case status text
expect 1 "$D" schema add-field case notes number
expect 1 "$D" schema add-role victim
expect 1 "$D" schema add-field case "Bad Name" text
expect 0 "$D" schema case
echo "$out" | grep -qE '^  region +text +\(added to this vault\)' || fail "extension listed"
expect 0 "$D" --json add case "title=Case of Ilmi Umerov" region=Crimea status=trial court=Kyiv \
    "article=Art. 280" date=2016-05~
C=$(json 'J["id"]')
expect 1 "$D" add person name=Y risk=hihg
echo "$errout" | grep -q "did you mean 'high'" || fail "custom enum suggestion: $errout"
expect 0 "$D" --json add person "name=Ilmi Umerov" risk=high
P=$(json 'J["id"]')

# ---- roles ----
s2=$(logsize)
expect 1 "$D" link "$C" "$P" --role victm
[ "$errout" = "defter: unknown role 'victm'; did you mean 'victim'?" ] || fail "$errout"
expect 1 "$D" link "$C" "$P" --role chaperone
echo "$errout" | grep -q "add-role chaperone" || fail "$errout"
[ "$(logsize)" = "$s2" ] || fail "a refused link wrote"
expect 0 "$D" --json link "$C" "$P" --role defendant
L=$(json 'J["id"]')
expect 0 "$D" link "$C" "$P" --role observer

# ---- show of a link prints its two ends ----
expect 0 "$D" show "$L"
echo "$out" | grep -q "from  $C  case Case of Ilmi Umerov" || fail "link from end: $out"
echo "$out" | grep -q "to    $P  person Ilmi Umerov" || fail "link to end: $out"
expect 0 "$D" --json show "$L"
[ "$(json 'J["to_record"]["title"]')" = "Ilmi Umerov" ] || fail "link json ends"

# ---- removing an absent field is a no-op, not an op; required fields stay ----
s3=$(logsize)
expect 0 "$D" edit "$P" 'occupation:=null'
[ "$(logsize)" = "$s3" ] || fail "removing an absent field wrote an operation"
expect 1 "$D" edit "$P" 'name:=null'
[ "$errout" = "defter: a person needs a name" ] || fail "$errout"
expect 1 "$D" edit "$C" staus=closed
echo "$errout" | grep -q "did you mean 'status'" || fail "$errout"
[ "$(logsize)" = "$s3" ] || fail "refused edits wrote"

# ---- history: who, when (local time, no ms), old -> new per field ----
expect 0 "$D" edit "$C" status=appeal
expect 0 "$D" show "$C"
echo "$out" | grep -qE '^  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  you +update$' ||
    fail "history line: $out"
echo "$out" | grep -q "status: 'trial' -> 'appeal'" || fail "old -> new: $out"
echo "$out" | grep -qE '\.[0-9]{3}Z' && fail "milliseconds in history"
expect 0 "$D" --json show "$C"
[ "$(json '[(c["old"], c["new"]) for h in J["changes"] for c in h["changes"] if c["field"]=="status"]')" = \
    "[(None, 'trial'), ('trial', 'appeal')]" ] || fail "changes json"

# ---- lists: `defter list TYPE [--where FIELD=VALUE]… [--sort FIELD] [--from DATE] [--to DATE]` ----
expect 0 "$D" add case "title=Case B" status=closed court=Simferopol date=2014-02-26
expect 0 "$D" add case "title=Case A" status=appeal court=Kyiv date=2015
expect 0 "$D" --json list case --where status=appeal
[ "$(json 'sorted(r["title"] for r in J)')" = "['Case A', 'Case of Ilmi Umerov']" ] || fail "where"
expect 0 "$D" --json list case --where status=appeal --where court=Kyiv --sort date
[ "$(json '[r["title"] for r in J]')" = "['Case A', 'Case of Ilmi Umerov']" ] || fail "sort by date"
expect 0 "$D" --json list case --sort -date
[ "$(json '[r["title"] for r in J]')" = "['Case of Ilmi Umerov', 'Case A', 'Case B']" ] ||
    fail "sort descending"
expect 0 "$D" --json list event --sort date --from 2014-02 --to 2014-12-31
[ "$(json '[r["fields"]["date"] for r in J]')" = "['2014', '2014~', '2014-02', '2014-02~', '2014-02-26']" ] ||
    fail "from/to on partial dates: $out"
expect 0 "$D" --json list event --from 2016
[ "$(json '[r["fields"]["date"] for r in J]')" = "['2016-02-29']" ] || fail "--from"
expect 0 "$D" list case --where article=Art.\ 280
echo "$out" | grep -q "Case of Ilmi Umerov" || fail "a list field matches any element"
expect 1 "$D" list case --where staus=open
echo "$errout" | grep -q "did you mean 'status'" || fail "$errout"
expect 1 "$D" list case --sort dte
expect 1 "$D" list event --from 12.05.2016
expect 2 "$D" list case --where status
expect 2 "$D" list case --bogus

# ---- photo metadata (time taken, camera, GPS) on the evidence row ----
if command -v node >/dev/null 2>&1; then
    node "$(dirname "$0")/../web/exif.mjs" "$T/exif.jpg"
    expect 0 "$D" attach "$C" "$T/exif.jpg"
    expect 0 "$D" show "$C"
    echo "$out" | grep -q "taken 2016-05-12T06:30:00  camera Canon EOS 5D  GPS 44.750000, 33.850000" ||
        fail "photo metadata on the evidence row: $out"
fi

# ---- deletes that cannot hurt: restore, list --deleted, links and attach refused ----
printf 'a photo\n' >"$T/photo.jpg"
expect 0 "$D" --json attach "$P" "$T/photo.jpg"
s4=$(logsize)
expect 1 "$D" attach "$P" "$T/photo.jpg"
echo "$errout" | grep -q "already attached to $P" || fail "same file twice: $errout"
[ "$(logsize)" = "$s4" ] || fail "a second attach wrote"
expect 0 "$D" delete "$P"
expect 0 "$D" --json show "$C"
[ "$(json 'len(J["relations"])')" = 0 ] || fail "a deleted person stays among the case's people"
expect 0 "$D" show "$P"
echo "$out" | grep -q "DELETED" || fail "a deleted record is marked"
expect 0 "$D" --json list --deleted
[ "$(json '[r["id"] for r in J]')" = "['$P']" ] || fail "list --deleted"
expect 0 "$D" --json list person
[ "$(json 'len(J)')" = 0 ] || fail "deleted records out of lists"
s5=$(logsize)
expect 1 "$D" link "$C" "$P" --role witness
expect 1 "$D" attach "$P" "$T/photo.jpg"
expect 1 "$D" edit "$P" occupation=teacher
[ "$(logsize)" = "$s5" ] || fail "refusals on a deleted record wrote"
expect 1 "$D" restore "$C"
echo "$errout" | grep -q "is not deleted" || fail "$errout"
expect 1 "$D" restore per_doesnotexist0000
expect 0 "$D" restore "$P"
expect 0 "$D" --json show "$C"
[ "$(json 'len(J["relations"])')" = 2 ] || fail "restored person back among the case's people"
expect 0 "$D" --json search "Umerov" --type person
[ "$(json '[h["id"] for h in J["hits"]]')" = "['$P']" ] || fail "restored record found by search"
expect 0 "$D" --json log
[ "$(json 'J["entries"][-1]["action"]')" = restore ] || fail "restore is an operation"
expect 0 "$D" --json verify

# ---- extract: - writes to stdout, a directory gets the stored name, no overwrite ----
E=$("$D" --json show "$P" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evidence"][0]["id"])')
"$D" extract "$E" - >"$T/stdout.bin" 2>"$T/err" || fail "extract to stdout"
cmp -s "$T/photo.jpg" "$T/stdout.bin" || fail "extract - content"
mkdir "$T/outdir"
expect 0 "$D" extract "$E" "$T/outdir"
cmp -s "$T/photo.jpg" "$T/outdir/photo.jpg" || fail "extract into a directory uses the stored name"
expect 1 "$D" extract "$E" "$T/outdir"
echo "$errout" | grep -q -- "--force" || fail "no overwrite without --force: $errout"
printf 'mine\n' >"$T/mine.txt"
expect 1 "$D" extract "$E" "$T/mine.txt"
[ "$(cat "$T/mine.txt")" = mine ] || fail "an existing file was overwritten"
expect 0 "$D" extract "$E" "$T/mine.txt" --force
cmp -s "$T/photo.jpg" "$T/mine.txt" || fail "--force replaces"
expect 0 "$D" --json show "$E"
[ "$(json 'len(J["custody"])')" = 3 ] || fail "each extract is in the custody chain"

# ---- CSV: `defter import --csv FILE --type TYPE [--map COLUMN=FIELD]… [--dry-run]` ----
cat >"$T/people.csv" <<'CSV'
Full name,name_variants,birth_date,occupation,Notes
Ахтем Чийгоз,"Ahtem Çiygoz; Akhtem Chiygoz",1964,"Deputy ""chair"" of the Mejlis","quote "" and, comma"
Nariman Celâl,Наріман Джелял,1980-05~,journalist,
İlmi Ümerov,,1957-02-03,,"line one
line two"
CSV
s6=$(logsize)
expect 1 "$D" import --csv "$T/people.csv" --type person
echo "$errout" | grep -q "row 1, column 1 ('Full name')" || fail "unknown column named: $errout"
expect 0 "$D" import --csv "$T/people.csv" --type person --map "Full name=name" --map Notes=summary --dry-run
echo "$out" | grep -q "3 records would be added" || fail "dry run: $out"
[ "$(logsize)" = "$s6" ] || fail "a dry run wrote"
expect 0 "$D" --json import --csv "$T/people.csv" --type person --map "Full name=name" --map Notes=summary
[ "$(json 'len(J["ids"])')" = 3 ] || fail "import ids"
[ "$(logsize)" = $((s6 + 1)) ] || fail "an import is one envelope"
I1=$(json 'J["ids"][0]')
expect 0 "$D" --json show "$I1"
[ "$(json 'J["fields"]["name_variants"]')" = "['Ahtem Çiygoz', 'Akhtem Chiygoz']" ] || fail "list cell"
[ "$(json 'J["fields"]["occupation"]')" = 'Deputy "chair" of the Mejlis' ] || fail "quotes"

# a bad row changes nothing, and the error names its row and column
cat >"$T/bad.csv" <<'CSV'
name,birth_date
Good One,1990
Bad Date,12.05.1990
CSV
expect 1 "$D" import --csv "$T/bad.csv" --type person
echo "$errout" | grep -q "row 3, column 'birth_date'" || fail "row and column: $errout"
printf 'name,occupation\nA,"unclosed\n' >"$T/bad2.csv"
expect 1 "$D" import --csv "$T/bad2.csv" --type person
printf 'name,occupation\n,teacher\n' >"$T/bad3.csv"
expect 1 "$D" import --csv "$T/bad3.csv" --type person
echo "$errout" | grep -q "row 2: a person needs a name" || fail "$errout"
printf 'name\n\xc3\x28\n' >"$T/bad4.csv"
expect 1 "$D" import --csv "$T/bad4.csv" --type person
expect 1 "$D" import --csv "$T/people.csv" --type person --map Nope=name
expect 1 "$D" import --csv "$T/missing.csv" --type person
expect 2 "$D" import --csv "$T/people.csv"
[ "$(logsize)" = $((s6 + 1)) ] || fail "bad imports wrote"

# ---- `defter export --csv|--json [TYPE] [--where …]`, and the round trip ----
expect 0 "$D" export --csv person
echo "$errout" | grep -q "not encrypted" || fail "export warns on stderr"
printf '%s\n' "$out" >"$T/export.csv"
grep -q '"Deputy ""chair"" of the Mejlis"' "$T/export.csv" || fail "quotes doubled in export"
expect 0 "$D" export --json person --where occupation=journalist
[ "$(json '[r["title"] for r in J]')" = "['Nariman Celâl']" ] || fail "export --json --where"
# a second vault imports the export and exports the same records
export DEFTER_VAULT="$T/vault2"
expect 0 "$D" init --kdf interactive
expect 1 "$D" import --csv "$T/export.csv" --type person
echo "$errout" | grep -q "column 5 ('risk')" || fail "a field this vault lacks: $errout"
expect 0 "$D" schema add-field person risk 'enum:low,high'
expect 0 "$D" import --csv "$T/export.csv" --type person
expect 0 "$D" export --csv person
printf '%s\n' "$out" >"$T/export2.csv"
python3 - "$T/export.csv" "$T/export2.csv" <<'PY' || fail "CSV round trip differs"
import csv, sys
def rows(p):
    with open(p, newline="", encoding="utf-8") as f:
        r = list(csv.DictReader(f))
    return sorted((tuple(sorted((k, v) for k, v in x.items() if k != "id"))) for x in r)
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert a == b, (a, b)
assert any("Çiygoz" in str(x) for x in a) and any("Ахтем" in str(x) for x in a)
assert any("line one\\nline two" in str(x) or "line one\nline two" in str(x) for x in a), a
PY
export DEFTER_VAULT="$T/vault"

# ---- `defter ui --open`: a fresh link to the running UI ----
expect 1 "$D" ui --open
echo "$errout" | grep -q "no \`defter ui\` is running" || fail "ui --open without a UI: $errout"
mkfifo "$T/ui.out"
"$D" ui >"$T/ui.out" 2>"$T/ui.err" &
uipid=$!
exec 3<"$T/ui.out"
read -r url1 <&3
cat <&3 >/dev/null &
expect 0 "$D" ui --open
url2=$out
case "$url2" in http://127.0.0.1:*/\?t=*) ;; *) fail "ui --open printed '$url2'" ;; esac
[ "$url2" != "$url1" ] || fail "ui --open gave the same link"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url2")
[ "$code" = 303 ] || fail "the fresh link opens a session ($code)"
code=$(curl -s -o "$T/page.html" -w '%{http_code}' -H 'Accept-Language: uk-UA,uk;q=0.9' "$url2")
[ "$code" = 403 ] || fail "a used link is refused ($code)"
grep -q '<html lang="uk">' "$T/page.html" || fail "the page is in the user's language"
grep -q "defter ui --open" "$T/page.html" || fail "the page says what to do"
code=$(curl -s -o "$T/page2.html" -w '%{http_code}' -H 'Accept-Language: tr' "${url1%%\?*}index.html")
[ "$code" = 401 ] && grep -q '<html lang="tr">' "$T/page2.html" || fail "no link: a page ($code)"
kill "$uipid"
wait "$uipid" 2>/dev/null
exec 3<&-
expect 1 "$D" ui --open

echo "daily: $checks checks passed"
