#!/usr/bin/env bash
# witness_quorum.sh - a vault gathering cosignatures from three `defter witness serve`
# instances: 2-of-3 quorum, consistency proofs from the last size, one witness down, one
# answering 409, one lying (wrong key), a fork between a vault and its copy (422, exit 3),
# tlog-proof. Every cosigned checkpoint is checked by two independent codebases: Node's crypto
# (tests/witness/tlog_client.mjs) and Go's golang.org/x/mod/sumdb/note (tests/witness/verify_go).
. "$(dirname "$0")/lib.bash"
HERE="$(cd "$(dirname "$0")/../witness" && pwd)"
NODE_CLIENT=$HERE/tlog_client.mjs
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

GO_VERIFY=""
if command -v go >/dev/null && [ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/note ]; then
    (cd "$HERE/verify_go" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$T/gocache" \
        GOFLAGS= go build -o "$T/verify_go" .) || fail "go build of the Go verifier"
    GO_VERIFY=$T/verify_go
else
    echo "witness_quorum.sh: Go or golang-golang-x-mod-dev missing: skipping the Go checks" >&2
fi

start_witness() { # NAME DIR: sets URL_<NAME>, PID_<NAME>
    local name=$1 dir=$2
    rm -f "$dir/out"
    "$DEFTER" witness serve --data "$dir" --listen 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 400); do
        [ -s "$dir/out" ] && break
        kill -0 "$pid" 2>/dev/null || fail "witness $name did not start: $(cat "$dir/err")"
        sleep 0.05
    done
    local url vk
    read -r url vk <"$dir/out"
    printf -v "URL_$name" '%s' "$url"
    printf -v "PID_$name" '%s' "$pid"
}

expect 0 "$DEFTER" init --kdf interactive
expect 0 "$DEFTER" identity
LOGVKEY=$(printf '%s\n' "$out" | head -n1)
ORIGIN=${LOGVKEY%%+*}
expect 0 "$DEFTER" add person name="Ахтем Чийгоз"
expect 0 "$DEFTER" add case title="Case 26"

for n in 1 2 3; do
    expect 0 "$DEFTER" witness init --data "$T/w$n" "witness$n.test/w"
    printf -v "VK_$n" '%s' "$out"
    expect 0 "$DEFTER" witness trust --data "$T/w$n" "$ORIGIN" "$LOGVKEY"
    start_witness "$n" "$T/w$n"
done
# a liar: same name as witness 3, another key
expect 0 "$DEFTER" witness init --data "$T/liar" "witness3.test/w"
expect 0 "$DEFTER" witness trust --data "$T/liar" "$ORIGIN" "$LOGVKEY"
start_witness liar "$T/liar"

# no witness yet, bad URL, bad keys
expect 1 "$DEFTER" checkpoint --cosign
[[ "$errout" == *"no witness is trusted"* ]] || fail "cosign without witnesses: $errout"
expect 1 "$DEFTER" witness add "$VK_1" ftp://example.org
[[ "$errout" == *"not http"* ]] || fail "bad URL refused: $errout"
long=$(head -c 600 /dev/zero | tr '\0' a)
expect 1 "$DEFTER" witness add "$VK_1" "http://$long"
expect 1 "$DEFTER" witness add "$VK_1" "http://a b"
expect 1 "$DEFTER" witness add "$LOGVKEY" http://127.0.0.1:1
[[ "$errout" == *"not a witness key"* ]] || fail "log key refused as witness: $errout"
expect 0 "$DEFTER" --json witness list
[ "$(json "len(J['witnesses'])")" = 0 ] || fail "nothing trusted after refusals"

expect 0 "$DEFTER" witness add "$VK_1" "$URL_1"
expect 0 "$DEFTER" witness add "$VK_2" "$URL_2"
expect 0 "$DEFTER" witness add "$VK_3" "$URL_3"
expect 0 "$DEFTER" witness policy 2
expect 0 "$DEFTER" witness policy --print
[[ "$out" == *"quorum witnesses"* && "$out" == *"group witnesses 2 w1 w2 w3"* ]] ||
    fail "policy --print shows 2 of 3: $out"

# all three cosign
expect 0 "$DEFTER" --json checkpoint --cosign
[ "$(json "J['cosignatures']")" = 3 ] || fail "3 cosignatures: $out"
[ "$(json "J['quorum_met']")" = True ] || fail "quorum met"
expect 0 "$DEFTER" checkpoint --cosigned
note=$out$'\n'
printf '%s' "$note" | node "$NODE_CLIENT" verify-note "$VK_1,$VK_2,$VK_3" "$LOGVKEY" >"$T/n.out" ||
    fail "node verification"
grep -q "3 witness cosignatures" "$T/n.out" || fail "node verifies 3 cosignatures: $(cat "$T/n.out")"
if [ -n "$GO_VERIFY" ]; then
    printf '%s' "$note" | "$GO_VERIFY" note "$LOGVKEY" "$VK_1,$VK_2,$VK_3" 3 || fail "go verification"
fi
expect 0 "$DEFTER" --json verify
[ "$(json "J['witnesses']['policy_met']")" = True ] || fail "verify reports the policy met"
[ "$(json "J['witnesses']['latest']['cosignatures']")" = 3 ] || fail "verify sees 3 cosignatures"

# grow: the next cosign sends consistency proofs from the remembered sizes
expect 0 "$DEFTER" add person name="Server Mustafayev"
expect 0 "$DEFTER" add person name="Emil Kurbedinov"
expect 0 "$DEFTER" --json checkpoint --cosign
[ "$(json "J['cosignatures']")" = 3 ] || fail "3 cosignatures after growing: $out"
expect 0 "$DEFTER" --json log
SIZE=$(json "J['size']")
expect 0 "$DEFTER" --json witness logs --data "$T/w2"
[ "$(json "J['logs'][0]['size']")" = "$SIZE" ] || fail "witness 2 holds size $SIZE"

# tlog-proof, checked by Go (inclusion with sumdb/tlog, cosignatures with sumdb/note)
expect 0 "$DEFTER" --json add person name="Nariman Dzhelyal"
PID_REC=$(json "J['id']")
expect 0 "$DEFTER" checkpoint --cosign
expect 0 "$DEFTER" prove "$PID_REC" --format tlog-proof
proof=$out$'\n'
[[ "$proof" == "c2sp.org/tlog-proof@v1"$'\n'"index "* ]] || fail "tlog-proof header: $proof"
expect 0 "$DEFTER" --json prove "$PID_REC"
LEAF=$(json "J['leaf_hash']")
if [ -n "$GO_VERIFY" ]; then
    printf '%s' "$proof" | "$GO_VERIFY" proof "$LOGVKEY" "$VK_1,$VK_2,$VK_3" 2 "$LEAF" ||
        fail "go verifies the tlog-proof"
    bad=$(printf '%s' "$proof" | awk -v h="$LEAF" 'NR == 3 { print h; next } { print }')
    [ "$bad" != "${proof%$'\n'}" ] || fail "the damaged proof differs"
    if printf '%s\n' "$bad" | "$GO_VERIFY" proof "$LOGVKEY" "$VK_1,$VK_2,$VK_3" 2 "$LEAF" 2>/dev/null; then
        fail "go refuses a damaged tlog-proof"
    fi
fi
expect 2 "$DEFTER" prove "$PID_REC" --format json

# witness 2 moves ahead of what the vault remembers (someone else pushed the same checkpoint)
expect 0 "$DEFTER" add event title="Search in Bakhchysarai"
expect 0 "$DEFTER" --json log
NEW=$(json "J['size']")
OLD=$(( NEW - 1 ))
expect 0 "$DEFTER" --json prove --consistency "$OLD" "$NEW"
json "'\n'.join(J['proof'])" >"$T/proof"
expect 0 "$DEFTER" checkpoint
{ echo "old $OLD"; grep -v '^$' "$T/proof"; echo; printf '%s\n' "$out"; } >"$T/push"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/push" "$URL_2/add-checkpoint")
[ "$code" = 200 ] || fail "direct push to witness 2 (got $code)"

# witness 1 down, witness 2 answers 409 first, witness 3's URL now reaches the liar
kill "$PID_1"
wait "$PID_1" 2>/dev/null
expect 0 "$DEFTER" witness add "$VK_3" "$URL_liar"
expect 1 "$DEFTER" checkpoint --cosign
[[ "$errout" == *"quorum not reached (1 cosignatures)"* ]] || fail "quorum not reached: $errout"
[[ "$errout" == *"witness1.test/w (cannot reach"* ]] || fail "names the witness that is down: $errout"
[[ "$errout" == *"witness3.test/w (answered 200 but with no valid cosignature"* ]] ||
    fail "names the lying witness: $errout"
[[ "$out" == *"witness2.test/w: cosigned"* ]] || fail "witness 2 cosigned after its 409: $out"
expect 0 "$DEFTER" --json checkpoint --cosigned
# witness 1 back (new port): 2 of 3, quorum met, the liar still named
start_witness 1 "$T/w1"
expect 0 "$DEFTER" witness add "$VK_1" "$URL_1"
expect 0 "$DEFTER" checkpoint --cosign
[[ "$errout" == *"quorum met; these witnesses failed: witness3.test/w"* ]] ||
    fail "quorum met with the liar named: $errout"
expect 0 "$DEFTER" checkpoint --cosigned
printf '%s\n' "$out" | node "$NODE_CLIENT" verify-note "$VK_1,$VK_2" "$LOGVKEY" | grep -q "2 witness" ||
    fail "node verifies 2 cosignatures"
if [ -n "$GO_VERIFY" ]; then
    printf '%s\n' "$out" | "$GO_VERIFY" note "$LOGVKEY" "$VK_1,$VK_2,$VK_3" 2 >/dev/null ||
        fail "go verifies 2 cosignatures"
fi
expect 0 "$DEFTER" witness add "$VK_3" "$URL_3"

# a copy of the vault diverges: the witnesses refuse the second history (422, exit 3)
expect 0 "$DEFTER" checkpoint --cosign
cp -a "$DEFTER_VAULT" "$T/copy"
expect 0 "$DEFTER" add person name="One history"
expect 0 "$DEFTER" checkpoint --cosign
DEFTER_VAULT=$T/copy expect 0 "$DEFTER" add person name="Another history"
DEFTER_VAULT=$T/copy expect 3 "$DEFTER" checkpoint --cosign
[[ "$errout" == *"saw another history of this log"* ]] || fail "fork reported: $errout"
expect 0 "$DEFTER" --json witness forks --data "$T/w1"
[ "$(json "len(J['forks'])")" -ge 1 ] || fail "witness 1 kept the fork"
[ "$(json "J['forks'][-1]['origin']")" = "$ORIGIN" ] || fail "fork of this origin"
# the original vault still cosigns
expect 0 "$DEFTER" checkpoint --cosign

# tlog-policy files
cat >"$T/policy" <<POL
# two NGOs and a bar association; any two
log $LOGVKEY
witness ngo1 $VK_1 $URL_1
witness ngo2 $VK_2 $URL_2
group ngos any ngo1 ngo2
witness bar $VK_3 $URL_3
group all-of-them 2 ngos bar
quorum all-of-them
POL
expect 0 "$DEFTER" witness policy --file "$T/policy"
expect 0 "$DEFTER" witness policy --print
[[ "$out" == *"group all-of-them 2 ngos bar"* && "$out" == *"quorum all-of-them"* ]] ||
    fail "policy --print gives the file's policy: $out"
expect 0 "$DEFTER" --json witness list
[ "$(json "J['policy']")" = 2 ] || fail "the policy's minimum is kept as K"
printf 'quorum nobody\n' >"$T/bad"
expect 1 "$DEFTER" witness policy --file "$T/bad"
[[ "$errout" == *"not defined above"* ]] || fail "bad policy refused: $errout"
printf 'witness a %s\nquorum a\n' "$LOGVKEY" >"$T/bad"
expect 1 "$DEFTER" witness policy --file "$T/bad"
printf 'witness a %s ftp://x\nquorum a\n' "$VK_1" >"$T/bad"
expect 1 "$DEFTER" witness policy --file "$T/bad"
[[ "$errout" == *"not http"* ]] || fail "policy with a bad URL refused: $errout"
expect 0 "$DEFTER" witness policy --print
[[ "$out" == *"quorum all-of-them"* ]] || fail "a refused policy changes nothing"
kill "$PID_2"
wait "$PID_2" 2>/dev/null
expect 0 "$DEFTER" add person name="Policy test"
expect 0 "$DEFTER" checkpoint --cosign # ngo1 + bar satisfy it
kill "$PID_3"
wait "$PID_3" 2>/dev/null
expect 0 "$DEFTER" add person name="Policy test 2"
expect 1 "$DEFTER" checkpoint --cosign # ngo1 alone does not

# network entry
expect 2 "$DEFTER" witness network-entry
expect 0 "$DEFTER" witness network-entry --contact lawyers@example.org
[[ "$out" == *"vkey $LOGVKEY"*"origin $ORIGIN"*"qpd 24"*"contact lawyers@example.org"* ]] ||
    fail "network entry: $out"
[[ "$errout" == *"never receive a record"* ]] || fail "plain-words warning: $errout"
expect 0 "$DEFTER" verify
echo "witness_quorum.sh: $checks checks passed"
