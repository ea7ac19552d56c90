# bash completion for defter: commands, record types, fields of a type (FIELD=), roles (--role).
# Installed by `make install` to $(PREFIX)/share/bash-completion/completions/defter. The words
# come from `defter --complete ...`, which opens no vault and asks for no passphrase.
_defter() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n = || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi
    local defter=${words[0]:-defter}
    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --vault | --passphrase-file) ((i++)) ;;
        -*) ;;
        *) cmd=${words[i]}; break ;;
        esac
    done
    case $prev in
    --vault) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --passphrase-file | --csv | --from-json) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --role) COMPREPLY=($(compgen -W "$("$defter" --complete roles 2>/dev/null)" -- "$cur")); return ;;
    --type) COMPREPLY=($(compgen -W "$("$defter" --complete types 2>/dev/null)" -- "$cur")); return ;;
    esac
    if [ -z "$cmd" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--vault --json --passphrase-file --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$("$defter" --complete commands 2>/dev/null)" -- "$cur"))
        fi
        return
    fi
    # the record type: the first word after add, list, schema, export
    local type="" j
    for ((j = i + 1; j < cword; j++)); do
        case ${words[j]} in -*) ;; *) type=${words[j]}; break ;; esac
    done
    case $cmd in
    add | list | schema | export | import)
        if [ -z "$type" ] && [[ $cur != -* ]] && [ "$cmd" != import ]; then
            local extra=""
            [ "$cmd" = schema ] && extra="add-field add-role"
            COMPREPLY=($(compgen -W "$("$defter" --complete types 2>/dev/null) $extra" -- "$cur"))
            return
        fi
        case $cmd in
        add)
            compopt -o nospace 2>/dev/null
            local f fields=""
            for f in $("$defter" --complete fields "$type" 2>/dev/null); do fields="$fields $f="; done
            COMPREPLY=($(compgen -W "$fields" -- "$cur"))
            ;;
        list | export)
            if [ "$prev" = --where ] || [ "$prev" = --sort ]; then
                [ "$prev" = --where ] && compopt -o nospace 2>/dev/null
                local f fields=""
                for f in $("$defter" --complete fields "$type" 2>/dev/null); do
                    [ "$prev" = --where ] && fields="$fields $f=" || fields="$fields $f"
                done
                COMPREPLY=($(compgen -W "$fields" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "--where --sort --from --to --deleted --csv --json" -- "$cur"))
            fi
            ;;
        import) COMPREPLY=($(compgen -W "--csv --type --map --dry-run" -- "$cur")) ;;
        esac
        ;;
    link) COMPREPLY=($(compgen -W "--role" -- "$cur")) ;;
    attach | extract) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
}
complete -F _defter defter
