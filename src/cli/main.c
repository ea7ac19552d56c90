/*
 * main.c - the defter binary: global options, the command table, help.
 *
 * Global options may appear anywhere before "--": --vault DIR, --json, --passphrase-file FILE,
 * -h/--help. Exit statuses: 0 ok, 1 user error, 2 usage, 3 integrity failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_agent.h"
#include "core/harden.h"
#include "cli/cmd_coercion.h"
#include "cli/cmd_conflicts.h"
#include "cli/cmd_sync.h"
#include "defter/crypto.h"

static const struct dft_cli_command commands[] = {
    {"init", cmd_init, "[--kdf interactive|moderate|sensitive]", "create a vault",
     "  The passphrase comes from the terminal (asked twice) or --passphrase-file.\n"
     "  --kdf sets the Argon2id cost (default moderate)."},
    {"passwd", cmd_passwd, "[--rekey] [--new-passphrase-file FILE] [--kdf LEVEL]",
     "change the passphrase (rewraps only; --rekey: a new master key, data re-encrypted)",
     "  Without --rekey the same master key is rewrapped under the new passphrase: nothing is\n"
     "  re-encrypted, so a copy of the old header still opens the vault with the old passphrase.\n"
     "  --rekey draws a new master key: every database page is re-encrypted and every evidence\n"
     "  key rewrapped, after which an old header opens nothing. It is crash-safe: an interrupted\n"
     "  rekey leaves the old or the new vault, settled at the next open."},
    {"add", cmd_add, "TYPE [FIELD=VALUE...] | [TYPE] --from-json FILE|-",
     "add a record, or a batch from a JSON array",
     "  Types: case person event proceeding source note place organization.\n"
     "  FIELD=VALUE sets a text field (repeat a field for a list); FIELD:=JSON sets any JSON\n"
     "  value, e.g. name_variants:='[\"Ахтем Чийгоз\"]'. --from-json reads an array of\n"
     "  {\"type\":..., FIELD: VALUE} objects (or {\"records\":[...],\"links\":[[k1,k2,role]]}\n"
     "  with local \"key\"s) and adds them all in one signed envelope, all or nothing.\n"
     "  With TYPE, elements that name no \"type\" get TYPE; one naming another type is an error."},
    {"show", cmd_show, "ID", "show a record with its relations, evidence and history", NULL},
    {"list", dft_cmd_list_query,
     "[TYPE] [--where FIELD=VALUE]... [--sort FIELD] [--from DATE] [--to DATE] [--deleted]",
     "list records",
     "  --where keeps records whose FIELD is VALUE (any element of a list; repeat for more).\n"
     "  --sort orders by a field (-FIELD descending; dates by date). --from/--to keep records\n"
     "  whose date falls in the range (ISO 8601, partial dates allowed). --deleted lists\n"
     "  deleted records instead (`defter restore ID` brings one back)."},
    {"edit", cmd_edit, "ID FIELD=VALUE...",
     "change fields (FIELD= with an empty value keeps an empty string; FIELD:=null removes)", NULL},
    {"delete", cmd_delete, "ID", "delete a record or link (history is kept)", NULL},
    {"restore", dft_cmd_restore, "ID", "bring a deleted record back (a new operation)", NULL},
    {"schema", dft_cmd_schema, "[TYPE] | add-field TYPE NAME KIND | add-role NAME",
     "the fields of each record type and the roles of links; extend them",
     "  Each field has a kind: text, longtext, date (ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD,\n"
     "  ~ at the end when approximate), enum (one of its values), list, ref (a record id),\n"
     "  flag (true/false). Unknown fields and roles are refused with a suggestion unless a\n"
     "  team adds them: add-field TYPE NAME KIND (KIND may be enum:A,B,C) and add-role NAME\n"
     "  are signed operations in the log. Fields named x-... are free and not checked."},
    {"import", dft_cmd_import, "--csv FILE --type TYPE [--map COLUMN=FIELD]... [--dry-run]",
     "add records from a spreadsheet (CSV), all rows or none",
     "  The first row names the columns (fields of TYPE, or renamed with --map; --map C=-\n"
     "  skips a column). A list field takes \"a; b; c\". Every row is checked against the\n"
     "  schema first; an error names the row and column and nothing is added. All rows go in\n"
     "  one signed envelope. --dry-run checks only."},
    {"export", dft_cmd_export,
     "--csv|--json [TYPE] [--where FIELD=VALUE]... [--sort FIELD] |\n"
     "            --bundle OUT.zip --case ID|--records IDS --profile court|diplomatic|public|FILE\n"
     "            [--dry-run]",
     "write records as CSV or JSON (plain text), or a verifiable bundle",
     "  --csv and --json take the filters of `list` and write to stdout. That output is for\n"
     "  your own use and is not encrypted; stderr says so.\n"
     "  --bundle writes a ZIP that defter-verify checks offline: court leaves out privileged\n"
     "  notes; diplomatic also masks witnesses' identifying fields; public shows only the\n"
     "  fields a record's \"public\" field lists. Withheld fields travel as salted digests only.\n"
     "  --dry-run lists what each record will show. docs/bundle-format.md"},
    {"link", cmd_link, "ID ID --role ROLE",
     "relate two records (victim, defendant, witness, lawyer, perpetrator, judge, prosecutor,\n"
     "            investigator, source, relative, member, ...)",
     NULL},
    {"attach", cmd_attach, "ID FILE...", "import evidence files into a record (all or none)",
     "  Each file is hashed (SHA-256) and encrypted in one pass; identical content is stored\n"
     "  once. A progress bar is drawn on stderr for files over 64 MiB on a terminal."},
    {"extract", dft_cmd_extract_to, "EVIDENCE-ID OUT|-|DIR [--force]",
     "decrypt an evidence file to OUT (checked; recorded in its chain of custody)",
     "  OUT - writes to stdout; a directory gets the file's stored name. An existing file is\n"
     "  not replaced without --force."},
    {"search", cmd_search, "QUERY [--type T] [--limit N]", "cross-script search", NULL},
    {"duplicates", cmd_duplicates, "[--type T] [--limit N]",
     "candidate pairs of records that are likely one person, for review", NULL},
    {"merge", cmd_merge, "[--undo] KEEP OTHER",
     "merge OTHER into KEEP (names, links); --undo reverses it; history is kept", NULL},
    {"conflicts", dft_cmd_conflicts, "",
     "open conflicts of a shared vault: concurrent writes of a field, a delete and an edit", NULL},
    {"resolve", dft_cmd_resolve, "ID FIELD VALUE",
     "settle a conflict: VALUE is written as one operation that has seen every concurrent one",
     "  FIELD _deleted takes true (delete the record) or false (keep it)."},
    {"log", cmd_log, "[--since N] [--envelopes]", "the operation log, one entry per envelope",
     NULL},
    {"verify", cmd_verify, "[--quick]",
     "check pages, log, signatures, the view and every evidence file",
     "  --quick checks evidence headers, lengths and final chunks without a full rehash."},
    {"identity", cmd_identity, "", "the vault's public keys (first line: verifier key)", NULL},
    {"ui", cmd_ui, "[--port P] | --open", "local web interface on 127.0.0.1",
     "  Prints a one-time link as the first line. --open prints a fresh link to the UI already\n"
     "  running on this vault (each link works once; a used one shows what to do)."},
    {"unlock", dft_cmd_unlock, "[--for DURATION] [--idle DURATION]",
     "unlock once: later commands of this user need no passphrase",
     "  Starts an agent that holds the open vault for this user (socket in $XDG_RUNTIME_DIR).\n"
     "  It locks on `defter lock`, after --idle without use (default 15m, or $DEFTER_AGENT_IDLE),\n"
     "  on SIGTERM, and when --for runs out (default 12h). Durations: 90s, 15m, 8h, 1h30m."},
    {"lock", dft_cmd_lock, "", "wipe the unlock agent's keys and stop it", NULL},
    {"status", dft_cmd_status, "", "locked or unlocked, and until when", NULL},
    {"checkpoint", cmd_checkpoint, "[--cosign | --import FILE|- | --cosigned]",
     "the current signed checkpoint (C2SP signed note), or keep a cosigned one",
     "  --import reads a checkpoint of this vault's log with C2SP tlog-cosignature/v1 lines by\n"
     "  trusted witnesses, checks it against the current tree and keeps its cosignatures.\n"
     "  --cosigned prints the latest kept cosigned checkpoint, checked again.\n"
     "  --cosign asks every witness (defter witness add VKEY URL) at once and keeps what\n"
     "  verified; exit 1 below the quorum, 3 when a witness saw another history."},
    {"witness", cmd_witness,
     "add VKEY [URL] | list | policy K|--file F|--print | network-entry --contact C |\n"
     "            init NAME | trust ORIGIN VKEY | serve --listen ADDR | forks | logs [--data DIR]",
     "trust witnesses and set the quorum; or run a witness (C2SP tlog-witness)",
     "  VKEY is a C2SP verifier key NAME+HEXID+BASE64 of type 0x04 (cosignature/v1). Each\n"
     "  change is a signed operation in the log. `defter verify` reports the policy.\n"
     "  policy --file reads a C2SP tlog-policy file. init, trust, serve, forks and logs run a\n"
     "  witness from --data DIR (else $DEFTER_WITNESS_DIR); serve also takes --prefix P,\n"
     "  --rate-ip R, --rate-log R, --max-connections N, --threads N. docs/witnesses.md."},
    {"brief", dft_cmd_brief,
     "--case ID|--cases ID,ID,... --lang crh|uk|en|ru|tr --profile P --format html|pdf OUT",
     "a case briefing (PDF/A-3b with the verified bundle attached, or HTML)",
     "  Built from a bundle of each case (evidence as hashes only), verified first; evidence is\n"
     "  listed with its SHA-256 and a QR code of its inclusion proof. PDF through WeasyPrint."},
    {"panic", dft_cmd_panic, "",
     "wipe the vault's keys now, without the passphrase (no undo; the data stays unreadable)",
     "  Overwrites every key slot of every header copy, fsyncs, then stops a running\n"
     "  `defter ui` of this vault. Prints \"wiped\" once it is durable. docs/coercion.md."},
    {"duress", dft_cmd_duress,
     "set --action shred|decoy|shred+decoy [--duress-passphrase-file FILE]\n"
     "            [--decoy-passphrase-file FILE]",
     "set a duress passphrase: it drops the real keys, or opens a decoy compartment",
     "  shred: typed at any unlock, it drops the real and recovery key slots in that unlock's\n"
     "  ordinary header rewrite and answers \"wrong passphrase or damaged header\".\n"
     "  decoy: it opens a second compartment (its own records and log) as if it were the\n"
     "  only one; open it with that passphrase to add harmless records. shred+decoy: as\n"
     "  shred, then it opens the decoy (made before; its passphrase is asked for).\n"
     "  docs/coercion.md says what each cannot do."},
    {"recovery", dft_cmd_recovery,
     "split --threshold M --shares N [--qr-dir DIR] [--no-qr] | combine [--share-file FILE...]\n"
     "            [--new-passphrase-file FILE] [--kdf LEVEL] | rotate [--threshold M --shares N]",
     "m-of-n recovery shares (words and QR codes); combine sets a new passphrase",
     "  split: a new recovery key opens the vault; it is split into N shares, any M of which\n"
     "  recover it. combine reads the shares' words (files or standard input, 32 words each),\n"
     "  checks each share, and sets a new passphrase. rotate voids every share given out so\n"
     "  far (and with --threshold/--shares makes new ones)."},
    {"share", cmd_share, "--server URL",
     "make this vault a collection on a sync server and push its history", NULL},
    {"member", cmd_member, "invite owner|editor|viewer|field | list | revoke KEY [--since TIME]",
     "invite members (one-use invite), list them, revoke a device (a new key epoch)",
     "  The invite carries the server, its key and the keys a new member needs: give it only\n"
     "  to that person. revoke --since TIME holds that key's entries logged since TIME for\n"
     "  review (TIME: POSIX seconds or YYYY-MM-DD[THH:MM[:SS]] UTC)."},
    {"sync", cmd_sync, "[--to URL]", "push, then pull and verify (exit 3 on a fork or rollback)",
     "  Every checkpoint must verify under the server key and extend the last one verified;\n"
     "  pulled entries must hash into it. On failure nothing is merged and both signed\n"
     "  checkpoints are kept as evidence."},
    {"serve", cmd_serve,
     "--listen IPV4:PORT --data DIR [--db postgresql://...] [--objects s3://...]",
     "run a team-sync server (first line: URL VKEY)",
     "  Stores ciphertext envelopes, evidence chunks and membership operations only; each\n"
     "  collection is an RFC 9162 log with signed checkpoints. Also --rate-device R,\n"
     "  --rate-ip R (requests per second), --max-connections N, --verbose. docs/sync-protocol.md"},
    {"prove", cmd_prove, "ID [--format tlog-proof] | --consistency OLD NEW",
     "inclusion proof of a record's latest envelope, or consistency between tree sizes",
     "  Hashes are standard base64; docs/log-format.md says how to check them by hand."},
};

static void
print_usage(FILE *f)
{
    fprintf(f, "usage: defter [--vault DIR] [--json] [--passphrase-file FILE] COMMAND [ARGS]\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\nThe vault is --vault DIR, else $DEFTER_VAULT, else ~/.local/share/defter/vault.\n"
               "The passphrase comes from the terminal, --passphrase-file FILE or\n"
               "$DEFTER_PASSPHRASE_FILE. Exit status: 0 ok, 1 error, 2 usage, 3 integrity.\n");
}

static const struct dft_cli_command *current;

const struct dft_cli_command *
dft_cli_commands(size_t *n)
{
    *n = sizeof commands / sizeof commands[0];
    return commands;
}

int
cli_wants_help(struct dft_cli *cli)
{
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--") == 0) {
            break;
        }
        if (strcmp(cli->argv[i], "-h") == 0 || strcmp(cli->argv[i], "--help") == 0) {
            printf("usage: defter %s %s\n\n%s\n", current->name, current->usage, current->summary);
            if (current->help != NULL) {
                printf("%s\n", current->help);
            }
            for (int k = 0; strcmp(current->name, "add") == 0 && k < cli->argc; k++) {
                if (dft_record_type_valid(cli->argv[k])) {
                    putchar('\n');
                    (void)dft_cli_schema_help(cli->argv[k]); /* cmd_daily.c */
                }
            }
            return 1;
        }
    }
    return 0;
}

static char default_vault[4096];

int
dft_cli_main(int argc, char **argv)
{
    struct dft_error err = {0};
    struct dft_cli cli = {0};
    dft_json_wipe_on_free();
    if (dft_crypto_init(&err) != DFT_OK) {
        return cli_report(&err);
    }
    cli.vault_dir = getenv("DEFTER_VAULT");
    cli.pass_file = getenv("DEFTER_PASSPHRASE_FILE");
    if (cli.pass_file != NULL && cli.pass_file[0] == '\0') {
        cli.pass_file = NULL;
    }
    /* Pull global options out of argv wherever they are (before "--"). */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (rest == NULL) {
        return cli_fail(1, "out of memory");
    }
    int nrest = 0;
    int want_help = 0;
    int after_dashdash = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (after_dashdash) {
            rest[nrest++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            after_dashdash = 1;
            rest[nrest++] = argv[i];
        } else if (strcmp(a, "--json") == 0) {
            cli.json = 1;
        } else if (strcmp(a, "--vault") == 0 || strcmp(a, "--passphrase-file") == 0) {
            if (i + 1 >= argc) {
                free(rest);
                fprintf(stderr, "defter: %s needs a value\n", a);
                return 2;
            }
            if (a[2] == 'v') {
                cli.vault_dir = argv[++i];
            } else {
                cli.pass_file = argv[++i];
            }
        } else if (strncmp(a, "--vault=", 8) == 0) {
            cli.vault_dir = a + 8;
        } else if (strncmp(a, "--passphrase-file=", 18) == 0) {
            cli.pass_file = a + 18;
        } else if (nrest == 0 && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            want_help = 1;
        } else if (nrest == 0 && (strcmp(a, "--man") == 0 || strcmp(a, "--complete") == 0)) {
            int st = dft_cli_man_or_complete(argc - i, argv + i); /* man.c */
            free(rest);
            return st;
        } else if (nrest == 0 && strcmp(a, "--version") == 0) {
            free(rest);
            printf("defter 0.1\n");
            return 0;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    if (nrest == 0) {
        free(rest);
        print_usage(want_help ? stdout : stderr);
        return want_help ? 0 : 2;
    }
    if (cli.vault_dir == NULL || cli.vault_dir[0] == '\0') {
        const char *home = getenv("HOME");
        snprintf(default_vault, sizeof default_vault, "%s/.local/share/defter/vault",
                 home != NULL ? home : ".");
        cli.vault_dir = default_vault;
    }
    cli.command = rest[0];
    cli.argc = nrest - 1;
    cli.argv = rest + 1;
    int status = 2;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, cli.command) == 0) {
            current = &commands[i];
            if (want_help || cli_wants_help(&cli)) {
                if (want_help) {
                    cli.argc = 0;
                    const char *h[] = {"--help"};
                    cli.argv = (char **)(uintptr_t)h;
                    cli.argc = 1;
                    cli_wants_help(&cli);
                }
                status = 0;
            } else if (!dft_cli_agent_forward(&cli, &status)) {
                status = commands[i].run(&cli);
            }
            free(rest);
            return status;
        }
    }
    fprintf(stderr, "defter: unknown command '%.64s'\n", cli.command);
    print_usage(stderr);
    free(rest);
    return 2;
}

int
main(int argc, char **argv)
{
    /* Before anything holds a key: no core file, not dumpable (the agent inherits this). */
    if (dft_process_harden() != 0) {
        return cli_fail(1, "cannot keep keys out of core dumps");
    }
    return dft_cli_main(argc, argv);
}
