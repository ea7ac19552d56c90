#!/usr/bin/env bash
# install.sh - `make install` with DESTDIR and PREFIX puts defter, its man page (one section
# per command, from the --help text) and bash completion (commands, types, fields, roles) in
# place; the installed binary runs from the PATH. Builds the release binary if it is missing.
. "$(dirname "$0")/lib.bash" || exit 1
cd "$(dirname "$0")/../.."
stage=$T/stage
make --no-print-directory install DESTDIR="$stage" PREFIX=/usr ${INSTALL_MAKEFLAGS:-} >"$T/make.log" 2>&1 ||
    { cat "$T/make.log" >&2; fail "make install"; }
ok
for f in usr/bin/defter usr/share/man/man1/defter.1 usr/share/bash-completion/completions/defter; do
    [ -f "$stage/$f" ] || fail "missing $f"
    ok
done
[ -x "$stage/usr/bin/defter" ] || fail "not executable"
PATH="$stage/usr/bin:$PATH" defter --version | grep -q '^defter ' || fail "defter on the PATH"
ok

# the man page: one section per command, from the same text as --help
man=$stage/usr/share/man/man1/defter.1
for c in $(PATH="$stage/usr/bin:$PATH" defter --complete commands); do
    grep -q "^\.SS \"$c\"" "$man" || fail "no section for $c"
    ok
done
summary=$("$stage/usr/bin/defter" restore --help | sed -n 3p)
grep -qF "$summary" "$man" || fail "man text differs from --help: $summary"
ok
if command -v man >/dev/null 2>&1; then
    MANPATH="$stage/usr/share/man" MANPAGER=cat man defter 2>/dev/null | grep -q "schema" ||
        fail "man defter"
    ok
fi

# bash completion: commands, types, fields of a type, roles
comp() { # comp WORDS... : the completions of the last word
    PATH="$stage/usr/bin:$PATH" bash -c '
        . "$0"
        COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        _defter; printf "%s\n" "${COMPREPLY[@]}"' "$stage/usr/share/bash-completion/completions/defter" "$@"
}
comp defter sch | grep -qx schema || fail "complete a command"
ok
comp defter add ca | grep -qx case || fail "complete a type"
ok
comp defter add person birth | grep -qx 'birth_date=' || fail "complete a field"
ok
comp defter link a b --role vic | grep -qx victim || fail "complete a role"
ok
comp defter list case --where sta | grep -qx 'status=' || fail "complete --where"
ok
echo "install: $checks checks passed"
