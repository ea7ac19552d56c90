#!/usr/bin/env bash
# privileged.sh - `defter add note --privileged`: the note's fields are sealed to the author's own
# X25519 key. The marker text is in the author's `show` and in a bundle made with
# --include-privileged (which verifies, the text revealed provably), and nowhere else: not in
# search, list, export --csv/--json, the log, a bundle of any profile without the flag (every
# file unzipped, raw, base64 and UTF-16), a briefing's HTML or PDF text or its attached bundle,
# nor any file of the vault on disk. Every refusal gets one clear line and changes nothing.
# (Another member's view - the same envelope read with another box key - is in
# tests/vault/test_privileged.c.)
. "$(dirname "$0")/lib.bash" || exit 1
D=$DEFTER
VERIFY=${DEFTER_VERIFY:-$(dirname "$D")/defter-verify}
B="python3 $(dirname "$0")/bundle_tool.py"
[ -x "$VERIFY" ] || fail "no defter-verify beside $D"

M="Privmark-Zq81 the client admits the meeting"
M2="Privmark-Xv27 second sealed note"
MW="Privmark" # the word every marker starts with

# nowhere FILE...: the marker word is in none of the files (raw bytes)
nowhere() {
    for f in "$@"; do
        if grep -a -q "$MW" "$f"; then
            fail "marker in $f"
        fi
        ok
    done
}
# one_line: the last command's stderr is one line naming $1
one_line() {
    [ "$(printf '%s\n' "$errout" | wc -l)" = 1 ] || fail "more than one line: $errout"
    printf '%s' "$errout" | grep -q -- "$1" || fail "message '$errout' (want '$1')"
}

expect 0 "$D" init --kdf interactive
expect 0 "$D" --json add case "title=Case of the seized phone" "summary=public summary"
CASE=$(json 'J["id"]')
expect 0 "$D" --json add person "name=Ayşe Seitova"
PER=$(json 'J["id"]')
expect 0 "$D" link "$PER" "$CASE" --role victim
expect 0 "$D" --json add note --privileged "title=Strategy $M" "text=$M" "date=2026-11-30"
NOTE=$(json 'J["id"]')
expect 0 "$D" link "$NOTE" "$CASE" --role note
printf '[{"type":"note","text":"%s","privileged":true}]' "$M2" >"$T/notes.json"
expect 0 "$D" --json add --from-json "$T/notes.json"
NOTE2=$(json 'J["ids"][0]')
expect 0 "$D" link "$NOTE2" "$CASE" --role note
printf 'evidence file\n' >"$T/e.txt"
expect 0 "$D" --json attach "$CASE" "$T/e.txt"

# ---- the author reads it ----
expect 0 "$D" --json show "$NOTE"
[ "$(json 'J["fields"]["text"]')" = "$M" ] || fail "author's show lacks the text: $out"
[ "$(json 'J["privileged"]["readable"]')" = True ] || fail "show: not readable: $out"
[ "$(json 'J["fields"]["date"]')" = 2026-11-30 ] || fail "show: date: $out"
expect 0 "$D" show "$NOTE"
printf '%s' "$out" | grep -qF "$M" || fail "human show lacks the text"
expect 0 "$D" --json show "$NOTE2"
[ "$(json 'J["fields"]["text"]')" = "$M2" ] || fail "from-json note: $out"
# the placeholder elsewhere: list, the case's relations
expect 0 "$D" --json list note
[ "$(json 'sorted(r["title"] for r in J)')" = "['privileged note', 'privileged note']" ] ||
    fail "list titles: $out"
printf '%s' "$out" | grep -q "$MW" && fail "list shows the text"
expect 0 "$D" --json show "$CASE"
printf '%s' "$out" | grep -q "$MW" && fail "the case's show names the note's text"

# ---- search never indexes it ----
for q in "$MW" "Privmark-Zq81" "client admits" "second sealed"; do
    expect 0 "$D" --json search "$q"
    [ "$(json 'len(J["hits"])')" = 0 ] || fail "search '$q' found: $out"
done

# ---- exports, the log ----
expect 0 "$D" export --csv note
printf '%s' "$out" | grep -q "$MW" && fail "export --csv shows the text"
[ -n "$out" ] || fail "export --csv is empty"
expect 0 "$D" export --json
printf '%s' "$out" | grep -q "$MW" && fail "export --json shows the text"
expect 0 "$D" --json log --envelopes
printf '%s' "$out" | grep -q "$MW" && fail "the log shows the text"
for id in "$NOTE" "$NOTE2"; do
    expect 0 "$D" --json prove "$id"
done

# ---- bundles without --include-privileged: the note is left out, under every profile ----
for prof in court diplomatic public; do
    expect 0 "$D" --json export --bundle "$T/$prof.zip" --case "$CASE" --profile "$prof"
    expect 0 "$VERIFY" "$T/$prof.zip"
    $B markers "$T/$prof.zip" "$MW" "Privmark-Zq81" || fail "$prof bundle holds the marker"
    rm -rf "$T/unz" && mkdir "$T/unz" && (cd "$T/unz" && unzip -q "../$prof.zip") ||
        fail "unzip $prof"
    mapfile -t files < <(find "$T/unz" -type f)
    [ "${#files[@]}" -gt 3 ] || fail "$prof: too few files"
    nowhere "${files[@]}"
    [ ! -e "$T/unz/records/$NOTE.json" ] || fail "$prof bundle holds the note's record"
done
expect 0 "$D" --json export --case "$CASE" --profile court --dry-run
[ "$(json 'sorted(d["id"] for d in J["dropped"]) == sorted(["'"$NOTE"'", "'"$NOTE2"'"])')" = True ] ||
    fail "dry run: privileged notes not left out: $out"

# ---- --include-privileged: the author's bundle holds the text, revealed provably ----
expect 0 "$D" --json export --bundle "$T/priv.zip" --case "$CASE" --profile court --include-privileged
expect 0 "$VERIFY" "$T/priv.zip"
printf '%s' "$out" | grep -qF "$M" || fail "the verifier does not show the revealed text: $out"
unzip -p "$T/priv.zip" "records/$NOTE.json" | grep -qF "$M" || fail "included note lacks its text"
unzip -p "$T/priv.zip" "records/$NOTE.json" | grep -q '"fields/sealed"' &&
    fail "the sealed box is revealed in the bundle"
# a changed revealed text fails verification
python3 - "$T/priv.zip" "$T/forged.zip" "$NOTE" "$M" <<'EOF' || fail "cannot forge"
import sys, zipfile
src, dst, note, m = sys.argv[1:]
zin = zipfile.ZipFile(src)
with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename == f"records/{note}.json":
            data = data.replace(m.encode(), m.replace("admits", "denies").encode())
        zout.writestr(info, data)
EOF
expect 3 "$VERIFY" "$T/forged.zip"
expect 0 "$D" --json export --case "$CASE" --profile court --include-privileged --dry-run
[ "$(json 'len(J["dropped"])')" = 0 ] || fail "dry run with --include-privileged dropped: $out"

# ---- briefings never show it ----
expect 0 "$D" brief --case "$CASE" --lang en --profile court --format html "$T/b.html"
nowhere "$T/b.html"
grep -q "seized phone" "$T/b.html" || fail "brief HTML lacks the case"
if command -v pdftotext >/dev/null && /usr/bin/python3 -c 'import weasyprint' 2>/dev/null; then
    expect 0 "$D" brief --case "$CASE" --lang en --profile court --format pdf "$T/b.pdf"
    pdftotext "$T/b.pdf" "$T/b.txt" || fail "pdftotext"
    grep -q "seized phone" "$T/b.txt" || fail "brief PDF lacks the case"
    nowhere "$T/b.txt" "$T/b.pdf"
    rm -rf "$T/att" && mkdir "$T/att" && pdfdetach -saveall -o "$T/att" "$T/b.pdf" >/dev/null ||
        fail "pdfdetach"
    for z in "$T"/att/*; do
        $B markers "$z" "$MW" || fail "the bundle attached to the brief holds the marker"
        ok
    done
fi

# ---- refusals: one line, nothing changed ----
before=$(state)
expect 1 "$D" add person "name=X" --privileged
one_line "only a note can be privileged"
expect 1 "$D" add note --privileged "text=x" "privileged=false"
one_line "contradict"
expect 2 "$D" add note --from-json "$T/notes.json" --privileged
expect 2 "$D" add note --privileged --privileged "text=x"
expect 1 "$D" edit "$NOTE" "privileged:=false"
one_line "stays privileged"
[ "$before" = "$(state)" ] || fail "a refusal changed the vault"
expect 0 "$D" --json add note "text=plain note"
PLAIN=$(json 'J["id"]')
before=$(state)
expect 1 "$D" edit "$PLAIN" "privileged:=true"
one_line "already in the history"
expect 1 "$D" add note "text=x" 'sealed:={"v":1}'
one_line "sealed"
[ "$before" = "$(state)" ] || fail "a refusal changed the vault"

# ---- the author edits: sealed again ----
expect 0 "$D" edit "$NOTE" "text=$M revised"
expect 0 "$D" --json show "$NOTE"
[ "$(json 'J["fields"]["text"]')" = "$M revised" ] || fail "edit: $out"
[ "$(json 'J["fields"]["title"]')" = "Strategy $M" ] || fail "edit lost the title: $out"
expect 0 "$D" --json search "revised"
[ "$(json 'len(J["hits"])')" = 0 ] || fail "search finds the edited text: $out"
expect 0 "$D" verify

# ---- nothing on disk in clear (database, WAL, header, objects) ----
"$D" lock >/dev/null 2>&1
mapfile -t vfiles < <(find "$DEFTER_VAULT" -type f)
[ "${#vfiles[@]}" -gt 1 ] || fail "no vault files"
nowhere "${vfiles[@]}"
echo "privileged.sh: $checks checks passed"
