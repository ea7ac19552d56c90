/*
 * cli.h - shared state and helpers of the defter command line.
 *
 * Only src/cli prints or exits. Each command is a function taking the parsed global options and
 * its own arguments; it returns an exit status: 0 success, 1 user error, 2 usage, 3 integrity.
 */
#ifndef DEFTER_CLI_H
#define DEFTER_CLI_H

#include <jansson.h>

#include "defter/core.h"
#include "defter/vault.h"

struct dft_cli {
    const char *vault_dir; /* --vault, $DEFTER_VAULT or ~/.local/share/defter/vault */
    const char *pass_file; /* --passphrase-file or $DEFTER_PASSPHRASE_FILE, else terminal */
    int json;              /* --json: one JSON document on stdout */
    const char *command;   /* the command's name */
    int argc;              /* the command's arguments (after global options are removed) */
    char **argv;
};

struct dft_cli_command {
    const char *name;
    int (*run)(struct dft_cli *cli);
    const char *usage;   /* arguments, e.g. "ID FIELD=VALUE..." */
    const char *summary; /* one line */
    const char *help;    /* more lines (may be NULL) */
};

/* Exit status for an error code: 2 usage, 3 integrity, 1 otherwise. */
int cli_status(enum dft_err code);

/* Print "defter: <msg>" for err and return its exit status. */
int cli_report(const struct dft_error *err);

/* Print "defter: <msg>" (printf-style) and return status. */
int cli_fail(int status, const char *fmt, ...) DFT_PRINTF(2, 3);

/* Usage error for the current command: message, then "usage: defter CMD ...". Returns 2. */
int cli_usage(struct dft_cli *cli, const char *fmt, ...) DFT_PRINTF(2, 3);

/* When the command's arguments contain -h or --help, print its help and return 1. */
int cli_wants_help(struct dft_cli *cli);

/* Read the passphrase (file or terminal). confirm asks twice on a terminal. Caller frees with
 * sodium_free. */
enum dft_err cli_passphrase(struct dft_cli *cli, const char *prompt, int confirm, char **pass,
                            size_t *len, struct dft_error *err) DFT_MUST_CHECK;

/* Unlock the vault for a command; on failure prints the message and returns the exit status. */
int cli_open_vault(struct dft_cli *cli, struct dft_vault **v);

/*
 * The shape of every read-only command: unlock, run query (which fills *out), close the vault,
 * then print *out as JSON (--json) or through human(). Returns the exit status.
 */
typedef enum dft_err (*dft_cli_query_fn)(struct dft_vault *v, void *ctx, json_t **out,
                                         struct dft_error *err);
int cli_read(struct dft_cli *cli, dft_cli_query_fn query, void *ctx,
             void (*human)(const json_t *out));

/* Print j as one JSON document (pretty when stdout is a terminal) and a newline. */
void cli_print_json(const json_t *j);

/* Parse FIELD=VALUE / FIELD:=JSON arguments into an object (repeated fields become lists). */
int cli_parse_fields(struct dft_cli *cli, int first, json_t **out);

/* Parse a non-negative decimal integer strictly. */
int cli_parse_u64(const char *s, uint64_t *out);
/* Requests per second for a --rate-* option: 0 (no limit) to 1e9; 0 or -1. */
int cli_parse_rate(const char *s, double *out);

/* One verb on one record id (delete, restore): prints {"id":ID} or the id. cmd_records.c */
typedef enum dft_err (*dft_cli_id_fn)(struct dft_vault *v, const char *id, struct dft_error *err);
int cli_id_command(struct dft_cli *cli, dft_cli_id_fn fn);

/* Commands (one file per group). */
int cmd_init(struct dft_cli *cli);
int cmd_passwd(struct dft_cli *cli);
int cmd_add(struct dft_cli *cli);
int cmd_show(struct dft_cli *cli);
int cmd_edit(struct dft_cli *cli);
int cmd_delete(struct dft_cli *cli);
int cmd_link(struct dft_cli *cli);
int cmd_search(struct dft_cli *cli);
int cmd_duplicates(struct dft_cli *cli);
int cmd_merge(struct dft_cli *cli);
int cmd_log(struct dft_cli *cli);
int cmd_verify(struct dft_cli *cli);
int cmd_identity(struct dft_cli *cli);
int cmd_ui(struct dft_cli *cli);
int cmd_checkpoint(struct dft_cli *cli); /* cmd_tlog.c */
int cmd_prove(struct dft_cli *cli);
int cmd_witness(struct dft_cli *cli); /* cmd_tlog.c */
int cmd_attach(struct dft_cli *cli);  /* cmd_evidence.c */
int cmd_extract(struct dft_cli *cli); /* cmd_evidence.c */
/* cmd_daily.c: schema, restore, list with filters, import, export, readable history */
int dft_cmd_schema(struct dft_cli *cli);
int dft_cmd_restore(struct dft_cli *cli);
int dft_cmd_list_query(struct dft_cli *cli);
int dft_cmd_import(struct dft_cli *cli);
int dft_cmd_export_table(struct dft_cli *cli); /* --csv|--json */
int dft_cmd_extract_to(struct dft_cli *cli);   /* "-", a directory, --force; then cmd_extract */
/* main.c: the command table; man.c: `defter --man` (roff) and `defter --complete WHAT` */
const struct dft_cli_command *dft_cli_commands(size_t *n);
int dft_cli_man_or_complete(int argc, char **argv);
int dft_cli_schema_help(const char *type);
void dft_cli_print_history(const json_t *hist);
/* show: add "changes" (readable history) to a record, the two ends' titles to a link */
enum dft_err dft_cli_show_more(struct dft_vault *v, json_t *rec, struct dft_error *err);
void dft_cli_print_link_ends(const json_t *link);
/* "taken …  camera …  GPS lat, lon" of an evidence row's EXIF metadata, if it has any. */
void dft_cli_print_photo_meta(const json_t *meta);
void dft_cli_local_time(const char *ts, char *out, size_t max);

/* cmd_bundle.c: `export` dispatches on its option; --bundle goes to dft_cmd_export_bundle. */
int dft_cmd_export(struct dft_cli *cli);
int dft_cmd_export_bundle(struct dft_cli *cli);
int dft_cmd_brief(struct dft_cli *cli); /* cmd_brief.c */

#endif
