/*
 * cmd_conflicts.c - `defter conflicts [--json]` lists the open conflicts of a shared vault (two
 * writes of a field, or a delete and an edit, that were concurrent); `defter resolve ID FIELD
 * VALUE` writes the value as one operation that has seen them all. Parses, calls one library
 * function, prints.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_conflicts.h"
#include "defter/vault_sync.h"

static enum dft_err
query_conflicts(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    (void)ctx;
    return dft_vault_conflicts(v, out, err);
}

static void
print_value(const json_t *value)
{
    if (json_is_string(value)) {
        fputs(json_string_value(value), stdout);
        return;
    }
    char *t = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(t != NULL ? t : "?", stdout);
    dft_json_string_free(t);
}

static void
human_conflicts(const json_t *out)
{
    if (json_array_size(out) == 0) {
        printf("no conflicts\n");
        return;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(out, i, c)
    {
        printf("%s %s\n", json_string_value(json_object_get(c, "record")),
               json_string_value(json_object_get(c, "field")));
        size_t k;
        const json_t *val;
        json_array_foreach(json_object_get(c, "values"), k, val)
        {
            const json_t *index = json_object_get(val, "index");
            printf("  ");
            print_value(json_object_get(val, "value"));
            printf("  (by %.12s..., ", json_string_value(json_object_get(val, "author")));
            if (json_is_integer(index)) {
                printf("logged at %lld)\n", (long long)json_integer_value(index));
            } else {
                printf("not logged yet)\n");
            }
        }
    }
}

int
dft_cmd_conflicts(struct dft_cli *cli)
{
    if (cli_wants_help(cli)) {
        return 0;
    }
    if (cli->argc != 0) {
        return cli_usage(cli, "conflicts takes no arguments");
    }
    return cli_read(cli, query_conflicts, NULL, human_conflicts);
}

int
dft_cmd_resolve(struct dft_cli *cli)
{
    if (cli_wants_help(cli)) {
        return 0;
    }
    if (cli->argc != 3) {
        return cli_usage(cli, "resolve needs a record id, a field and a value");
    }
    const char *id = cli->argv[0], *field = cli->argv[1], *text = cli->argv[2];
    json_t *value = NULL;
    if (strcmp(field, "_deleted") == 0) {
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
            return cli_usage(cli, "'_deleted' is resolved with true (delete) or false (keep)");
        }
        value = json_boolean(strcmp(text, "true") == 0);
    } else {
        value = json_string(text);
        if (value == NULL) {
            return cli_fail(1, "the value is not valid UTF-8 text");
        }
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        json_decref(value);
        return st;
    }
    struct dft_error err = {0};
    json_t *out = NULL;
    enum dft_err rc = dft_vault_resolve(v, id, field, value, &out, &err);
    dft_vault_close(v);
    json_decref(value);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        cli_print_json(out);
    } else {
        printf("resolved %s of %s\n", field, id);
    }
    json_decref(out);
    return 0;
}
