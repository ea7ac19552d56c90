/*
 * cmd_merge.c - duplicates and merge: candidate pairs of records that are likely one person,
 * and merging two records into one (reversible; history kept).
 *
 * The merge itself is the library's (dft_vault_merge, src/vault/merge.c); this file parses the
 * arguments and prints. Never prints record contents to stderr.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct duplicates_args {
    const char *type;
    size_t limit;
};

static enum dft_err
query_duplicates(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    const struct duplicates_args *a = ctx;
    return dft_vault_duplicates(v, a->type, a->limit, out, err);
}

static void
print_pairs(const json_t *res)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(res, "pairs"), i, p)
    {
        printf("%6.3f  %s  %s  %s | %s  (%s)\n", json_number_value(json_object_get(p, "score")),
               json_string_value(json_object_get(p, "a")),
               json_string_value(json_object_get(p, "b")),
               json_string_value(json_object_get(p, "a_title")),
               json_string_value(json_object_get(p, "b_title")),
               json_string_value(json_object_get(p, "why")));
    }
}

int
cmd_duplicates(struct dft_cli *cli)
{
    const char *type = "person";
    uint64_t limit = 100;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--type") == 0 && i + 1 < cli->argc) {
            type = cli->argv[++i];
        } else if (strcmp(a, "--limit") == 0 && i + 1 < cli->argc) {
            if (cli_parse_u64(cli->argv[++i], &limit) != 0 || limit == 0 || limit > 100000) {
                return cli_usage(cli, "--limit needs a number from 1 to 100000");
            }
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (!dft_record_type_valid(type)) {
        return cli_fail(1, "unknown record type '%.40s'", type);
    }
    struct duplicates_args args = {type, (size_t)limit};
    return cli_read(cli, query_duplicates, &args, print_pairs);
}

int
cmd_merge(struct dft_cli *cli)
{
    const char *ids[2] = {NULL, NULL};
    int undo = 0, n = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--undo") == 0) {
            undo = 1;
        } else if (a[0] != '-' && n < 2) {
            ids[n++] = a;
        } else {
            return cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (n != 2) {
        return cli_usage(cli, "give the record to keep and the one to merge into it");
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *res = NULL;
    enum dft_err rc = dft_vault_merge(v, ids[0], ids[1], undo ? DFT_MERGE_UNDO : 0, &res, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(res);
    } else {
        printf("%s %s %s %s\n", undo ? "unmerged" : "merged", ids[1], undo ? "from" : "into",
               ids[0]);
    }
    json_decref(res);
    return 0;
}
