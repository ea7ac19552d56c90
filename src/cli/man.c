/*
 * man.c - `defter --man` writes the man page (roff) from the same command table as --help, one
 * section per command; `defter --complete commands|types|roles|fields TYPE` prints the words
 * bash completion offers (built-in schema; no vault is opened).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "defter/model.h"

/* Text into roff: backslashes and hyphens escaped, no line starting with a control character. */
static void
roff(FILE *f, const char *s)
{
    int bol = 1;
    for (const char *p = s; *p != '\0'; p++) {
        if (bol && (*p == '.' || *p == '\'')) {
            fputs("\\&", f);
        }
        bol = 0;
        if (*p == '\\') {
            fputs("\\e", f);
        } else if (*p == '-') {
            fputs("\\-", f);
        } else if (*p == '\n') {
            fputc('\n', f);
            bol = 1;
        } else {
            fputc(*p, f);
        }
    }
}

/* Help text lines are indented by two spaces for the terminal; the page indents itself. */
static void
roff_help(FILE *f, const char *help)
{
    const char *p = help;
    while (*p != '\0') {
        while (*p == ' ') {
            p++;
        }
        const char *e = strchr(p, '\n');
        size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < 511 ? n : 511), p);
        roff(f, line);
        fputc('\n', f);
        p += n;
        if (*p == '\n') {
            p++;
        }
    }
}

static void
man_page(FILE *f)
{
    size_t n;
    const struct dft_cli_command *cmds = dft_cli_commands(&n);
    fputs(".TH DEFTER 1 \"2026\" \"defter 0.1\" \"User Commands\"\n"
          ".SH NAME\n"
          "defter \\- a secure evidence ledger for human\\-rights documentation\n"
          ".SH SYNOPSIS\n"
          ".B defter\n"
          "[\\fB\\-\\-vault\\fR \\fIDIR\\fR] [\\fB\\-\\-json\\fR] "
          "[\\fB\\-\\-passphrase\\-file\\fR \\fIFILE\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"
          ".SH DESCRIPTION\n"
          "Defter records cases, proceedings, people, events, sources and evidence files in an\n"
          "encrypted vault of signed operations, proves they were not altered, and finds a\n"
          "person under any spelling in any script.\n"
          ".SH OPTIONS\n"
          ".TP\n\\fB\\-\\-vault\\fR \\fIDIR\\fR\n"
          "the vault (else $DEFTER_VAULT, else ~/.local/share/defter/vault)\n"
          ".TP\n\\fB\\-\\-json\\fR\nmachine output: one JSON document on stdout\n"
          ".TP\n\\fB\\-\\-passphrase\\-file\\fR \\fIFILE\\fR\n"
          "read the passphrase from FILE (else $DEFTER_PASSPHRASE_FILE, else the terminal)\n"
          ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nhelp; after a command, that command's help\n"
          ".SH COMMANDS\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs(".SS \"", f);
        roff(f, cmds[i].name);
        fputs("\"\n.B defter ", f);
        roff(f, cmds[i].name);
        fputc('\n', f);
        if (cmds[i].usage[0] != '\0') {
            fputs(".I \"", f);
            roff(f, cmds[i].usage);
            fputs("\"\n", f);
        }
        fputs(".PP\n", f);
        roff_help(f, cmds[i].summary);
        if (cmds[i].help != NULL) {
            fputs(".PP\n", f);
            roff_help(f, cmds[i].help);
        }
    }
    fputs(".SH EXIT STATUS\n"
          "0 success, 1 a user error (one line on stderr), 2 a usage error, 3 an integrity\n"
          "failure (tampering, bad proof).\n"
          ".SH ENVIRONMENT\n"
          ".TP\nDEFTER_VAULT\nthe vault directory\n"
          ".TP\nDEFTER_PASSPHRASE_FILE\na file holding the passphrase (for scripts)\n"
          ".SH SEE ALSO\n"
          "The README and docs/ of the Defter sources.\n",
          f);
}

static int
complete(int argc, char **argv)
{
    const char *what = argc > 0 ? argv[0] : "commands";
    if (strcmp(what, "commands") == 0) {
        size_t n;
        const struct dft_cli_command *cmds = dft_cli_commands(&n);
        for (size_t i = 0; i < n; i++) {
            printf("%s\n", cmds[i].name);
        }
        return 0;
    }
    if (strcmp(what, "types") == 0) {
        for (const char *const *t = dft_record_types(); *t != NULL; t++) {
            printf("%s\n", *t);
        }
        return 0;
    }
    json_t *s = NULL;
    struct dft_error err = {0};
    const char *type = argc > 1 ? argv[1] : NULL;
    if (strcmp(what, "fields") == 0 && (type == NULL || !dft_record_type_valid(type))) {
        return 0; /* nothing to offer */
    }
    if (dft_schema_get(NULL, strcmp(what, "fields") == 0 ? type : NULL, &s, &err) != DFT_OK) {
        return cli_report(&err);
    }
    size_t i;
    json_t *x;
    if (strcmp(what, "roles") == 0) {
        json_array_foreach(json_object_get(s, "roles"), i, x)
        {
            printf("%s\n", json_string_value(x));
        }
    } else if (strcmp(what, "fields") == 0) {
        json_array_foreach(
            json_object_get(json_object_get(json_object_get(s, "types"), type), "fields"), i, x)
        {
            printf("%s\n", json_string_value(json_object_get(x, "name")));
        }
    } else {
        json_decref(s);
        fprintf(stderr, "defter: --complete commands|types|roles|fields TYPE\n");
        return 2;
    }
    json_decref(s);
    return 0;
}

int
dft_cli_man_or_complete(int argc, char **argv)
{
    if (strcmp(argv[0], "--man") == 0) {
        man_page(stdout);
        return 0;
    }
    return complete(argc - 1, argv + 1);
}
