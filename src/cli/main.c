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
#include "defter/crypto.h"

static const struct dft_cli_command commands[] = {
    {"init", cmd_init, "[--kdf interactive|moderate|sensitive]", "create a vault",
     "  The passphrase comes from the terminal (asked twice) or --passphrase-file.\n"
     "  --kdf sets the Argon2id cost (default moderate)."},
    {"passwd", cmd_passwd, "[--new-passphrase-file FILE] [--kdf LEVEL]",
     "change the passphrase (rewraps the keys; data is not re-encrypted)", NULL},
    {"add", cmd_add, "TYPE [FIELD=VALUE...] | [TYPE] --from-json FILE|-",
     "add a record, or a batch from a JSON array",
     "  Types: case person event proceeding source note place organization.\n"
     "  FIELD=VALUE sets a text field (repeat a field for a list); FIELD:=JSON sets any JSON\n"
     "  value, e.g. name_variants:='[\"Ахтем Чийгоз\"]'. --from-json reads an array of\n"
     "  {\"type\":..., FIELD: VALUE} objects (or {\"records\":[...],\"links\":[[k1,k2,role]]}\n"
     "  with local \"key\"s) and adds them all in one signed envelope, all or nothing.\n"
     "  With TYPE, elements that name no \"type\" get TYPE; one naming another type is an error."},
    {"show", cmd_show, "ID", "show a record with its relations, evidence and history", NULL},
    {"list", cmd_list, "[TYPE]", "list records", NULL},
    {"edit", cmd_edit, "ID FIELD=VALUE...",
     "change fields (FIELD= with an empty value keeps an empty string; FIELD:=null removes)", NULL},
    {"delete", cmd_delete, "ID", "delete a record or link (history is kept)", NULL},
    {"link", cmd_link, "ID ID --role ROLE",
     "relate two records (victim, defendant, witness, lawyer, perpetrator, judge, prosecutor,\n"
     "            investigator, source, relative, member, ...)",
     NULL},
    {"attach", cmd_attach, "ID FILE...", "import evidence files into a record (all or none)",
     "  Each file is hashed (SHA-256) and encrypted in one pass; identical content is stored\n"
     "  once. A progress bar is drawn on stderr for files over 64 MiB on a terminal."},
    {"extract", cmd_extract, "EVIDENCE-ID OUT",
     "decrypt an evidence file to OUT (checked; recorded in its chain of custody)", NULL},
    {"search", cmd_search, "QUERY [--type T] [--limit N]", "cross-script search", NULL},
    {"duplicates", cmd_duplicates, "[--type T] [--limit N]",
     "candidate pairs of records that are likely one person, for review", NULL},
    {"merge", cmd_merge, "[--undo] KEEP OTHER",
     "merge OTHER into KEEP (names, links); --undo reverses it; history is kept", NULL},
    {"log", cmd_log, "[--since N] [--envelopes]", "the operation log, one entry per envelope",
     NULL},
    {"verify", cmd_verify, "[--quick]",
     "check pages, log, signatures, the view and every evidence file",
     "  --quick checks evidence headers, lengths and final chunks without a full rehash."},
    {"identity", cmd_identity, "", "the vault's public keys (first line: verifier key)", NULL},
    {"ui", cmd_ui, "[--port P]", "local web interface on 127.0.0.1", NULL},
    {"checkpoint", cmd_checkpoint, "[--import FILE|- | --cosigned]",
     "the current signed checkpoint (C2SP signed note), or keep a cosigned one",
     "  --import reads a checkpoint of this vault's log with C2SP tlog-cosignature/v1 lines by\n"
     "  trusted witnesses, checks it against the current tree and keeps its cosignatures.\n"
     "  --cosigned prints the latest kept cosigned checkpoint, checked again."},
    {"witness", cmd_witness, "add VKEY | list | policy K",
     "trust witness keys and require K of them to cosign checkpoints",
     "  VKEY is a C2SP verifier key NAME+HEXID+BASE64 of type 0x04 (cosignature/v1). Each\n"
     "  change is a signed operation in the log. `defter verify` reports the policy."},
    {"prove", cmd_prove, "ID | --consistency OLD NEW",
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
            return 1;
        }
    }
    return 0;
}

static char default_vault[4096];

int
main(int argc, char **argv)
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
            } else {
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
