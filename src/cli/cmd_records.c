/*
 * cmd_records.c - add, show, list, edit, delete, link and search.
 *
 * Input is checked before the vault is touched; each command writes at most one envelope.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define FROM_JSON_MAX (512u * 1024u * 1024u)

static int
read_json_input(const char *path, json_t **out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return cli_fail(1, "cannot open '%s': %s", path, strerror(errno));
    }
    struct dft_buf b;
    dft_buf_init(&b, FROM_JSON_MAX, 0);
    char chunk[65536];
    size_t n;
    enum dft_err rc = DFT_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = dft_buf_add(&b, chunk, n);
        if (rc != DFT_OK) {
            break;
        }
    }
    int ioerr = ferror(f);
    if (f != stdin) {
        fclose(f);
    }
    if (rc != DFT_OK || ioerr) {
        dft_buf_release(&b);
        return rc == DFT_ERR_TOO_LARGE ? cli_fail(1, "'%s' is too large", path)
                                       : cli_fail(1, "cannot read '%s'", path);
    }
    json_error_t jerr;
    json_t *j = json_loadb(b.data != NULL ? (const char *)b.data : "", b.len,
                           JSON_REJECT_DUPLICATES, &jerr);
    dft_buf_release(&b);
    if (j == NULL) {
        return cli_fail(1, "malformed JSON in '%s' at line %d: %s", path, jerr.line, jerr.text);
    }
    *out = j;
    return 0;
}

/* Remove `--privileged` from the arguments: 1 when it was there, -1 when twice, else 0. */
static int
take_privileged_flag(struct dft_cli *cli)
{
    int found = 0, o = 0;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--privileged") == 0) {
            found++;
            continue;
        }
        cli->argv[o++] = cli->argv[i];
    }
    cli->argc = o;
    return found > 1 ? -1 : found;
}

/* `add note --privileged`: the note's fields are sealed to this vault's key (privileged.c). */
static int
set_privileged(json_t *fields)
{
    const json_t *given = json_object_get(fields, "privileged");
    if (given != NULL && !json_is_true(given) &&
        !(json_is_string(given) && strcmp(json_string_value(given), "true") == 0)) {
        return cli_fail(1, "--privileged and the field privileged=%s contradict each other",
                        json_is_string(given) ? json_string_value(given) : "false");
    }
    if (json_object_set_new(fields, "privileged", json_true()) != 0) {
        return cli_fail(1, "out of memory");
    }
    return 0;
}

int
cmd_add(struct dft_cli *cli)
{
    const char *from = NULL;
    const char *from_type = NULL;
    json_t *items = NULL;
    int single = 0;
    int st;
    int privileged = take_privileged_flag(cli);
    if (privileged < 0) {
        return cli_usage(cli, "--privileged given twice");
    }
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--from-json") == 0) {
            if (i + 1 >= cli->argc) {
                return cli_usage(cli, "--from-json needs FILE or -");
            }
            if (from != NULL) {
                return cli_usage(cli, "--from-json given twice");
            }
            from = cli->argv[++i];
        } else if (from_type == NULL) {
            from_type = cli->argv[i];
        }
    }
    if (from != NULL && privileged) {
        return cli_usage(cli, "--privileged is for one note given as FIELD=VALUE; with "
                              "--from-json give each note \"privileged\": true");
    }
    if (from != NULL) {
        /* add [TYPE] --from-json FILE|-: TYPE is the type of the elements that name none. */
        if (cli->argc > 3 || (from_type != NULL && cli->argc != 3)) {
            return cli_usage(cli, "--from-json takes only TYPE and FILE or -");
        }
        if (from_type != NULL && !dft_record_type_valid(from_type)) {
            return cli_fail(1,
                            "unknown record type '%.40s' (case, person, event, proceeding, "
                            "source, note, place, organization)",
                            from_type);
        }
        if ((st = read_json_input(from, &items)) != 0) {
            return st;
        }
        if (!json_is_array(items) &&
            !(json_is_object(items) && json_is_array(json_object_get(items, "records")))) {
            json_decref(items);
            return cli_fail(1, "'%s' must hold a JSON array of records", from);
        }
        if (from_type != NULL) {
            struct dft_error terr = {0};
            if (dft_vault_items_type(items, from_type, &terr) != DFT_OK) {
                json_decref(items);
                return cli_report(&terr);
            }
        }
    } else {
        if (cli->argc < 1) {
            return cli_usage(cli, "missing record TYPE");
        }
        const char *type = cli->argv[0];
        if (!dft_record_type_valid(type)) {
            return cli_fail(1,
                            "unknown record type '%.40s' (case, person, event, proceeding, "
                            "source, note, place, organization)",
                            type);
        }
        if (privileged && strcmp(type, "note") != 0) {
            return cli_fail(1, "only a note can be privileged (defter add note --privileged ...)");
        }
        json_t *fields = NULL;
        if ((st = cli_parse_fields(cli, 1, &fields)) != 0) {
            return st;
        }
        if (privileged && (st = set_privileged(fields)) != 0) {
            json_decref(fields);
            return st;
        }
        json_object_set_new(fields, "type", json_string(type));
        items = json_pack("[o]", fields);
        single = 1;
    }
    struct dft_vault *v = NULL;
    if ((st = cli_open_vault(cli, &v)) != 0) {
        json_decref(items);
        return st;
    }
    struct dft_error err = {0};
    json_t *ids = NULL;
    enum dft_err rc = dft_vault_add(v, items, &ids, &err);
    dft_vault_close(v);
    json_decref(items);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = single ? json_pack("{sO}", "id", json_array_get(ids, 0))
                           : json_pack("{sO}", "ids", ids);
        cli_print_json(o);
        json_decref(o);
    } else {
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
            printf("%s\n", json_string_value(id));
        }
    }
    json_decref(ids);
    return 0;
}

static void
print_value(const json_t *val)
{
    if (json_is_string(val)) {
        fputs(json_string_value(val), stdout);
    } else if (json_is_array(val) && json_array_size(val) > 0) {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)(uintptr_t)val, i, x)
        {
            if (i > 0) {
                fputs("; ", stdout);
            }
            print_value(x);
        }
    } else {
        json_dumpf(val, stdout, JSON_ENCODE_ANY | JSON_COMPACT);
    }
}

static void
print_record(const json_t *r)
{
    const char *type = json_string_value(json_object_get(r, "type"));
    printf("%s  (%s %s)\n", json_string_value(json_object_get(r, "title")), type,
           json_string_value(json_object_get(r, "id")));
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(r, "fields"), key, val)
    {
        printf("  %s: ", key);
        print_value(val);
        putchar('\n');
    }
    if (strcmp(type, "link") == 0) {
        dft_cli_print_link_ends(r); /* cmd_daily.c */
    }
    if (strcmp(type, "link") != 0 && json_is_true(json_object_get(r, "deleted"))) {
        printf("  DELETED (`defter restore %s` brings it back)\n",
               json_string_value(json_object_get(r, "id")));
    }
    if (strcmp(type, "evidence") == 0) {
        printf("  name: %s\n  size: %lld bytes\n  sha256: %s\n  attached to: %s\n",
               json_string_value(json_object_get(r, "name")),
               (long long)json_integer_value(json_object_get(r, "size")),
               json_string_value(json_object_get(r, "sha256")),
               json_string_value(json_object_get(r, "record")));
    }
    size_t i;
    json_t *x;
    json_t *rel = json_object_get(r, "relations");
    if (json_array_size(rel) > 0) {
        printf("relations:\n");
        json_array_foreach(rel, i, x)
        {
            const char *dir = json_string_value(json_object_get(x, "direction"));
            const char *t = json_string_value(json_object_get(x, "other_title"));
            printf("  %s %s %s (%s)  [%s]\n", json_string_value(json_object_get(x, "role")),
                   strcmp(dir, "out") == 0 ? "->" : "<-", t != NULL ? t : "(deleted)",
                   json_string_value(json_object_get(x, "other")),
                   json_string_value(json_object_get(x, "id")));
        }
    }
    json_t *ev = json_object_get(r, "evidence");
    if (json_array_size(ev) > 0) {
        printf("evidence:\n");
        json_array_foreach(ev, i, x)
        {
            printf("  %s  %s  %lld bytes  sha256 %s\n", json_string_value(json_object_get(x, "id")),
                   json_string_value(json_object_get(x, "name")),
                   (long long)json_integer_value(json_object_get(x, "size")),
                   json_string_value(json_object_get(x, "sha256")));
            dft_cli_print_photo_meta(json_object_get(x, "meta")); /* cmd_daily.c */
        }
    }
    dft_cli_print_history(json_object_get(r, "changes"));
}

static enum dft_err
query_show(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    enum dft_err rc = dft_vault_show(v, ctx, DFT_SHOW_HISTORY, out, err);
    if (rc == DFT_OK) {
        rc = dft_cli_show_more(v, *out, err); /* cmd_daily.c */
    }
    return rc;
}

int
cmd_show(struct dft_cli *cli)
{
    if (cli->argc != 1) {
        return cli_usage(cli, cli->argc == 0 ? "missing ID" : "too many arguments");
    }
    return cli_read(cli, query_show, cli->argv[0], print_record);
}

static int
print_id(struct dft_cli *cli, const char *id)
{
    if (cli->json) {
        json_t *o = json_pack("{ss}", "id", id);
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("%s\n", id);
    }
    return 0;
}

int
cmd_edit(struct dft_cli *cli)
{
    if (cli->argc < 2) {
        return cli_usage(cli, cli->argc == 0 ? "missing ID" : "missing FIELD=VALUE");
    }
    json_t *fields = NULL;
    int st = cli_parse_fields(cli, 1, &fields);
    if (st != 0) {
        return st;
    }
    struct dft_vault *v = NULL;
    if ((st = cli_open_vault(cli, &v)) != 0) {
        json_decref(fields);
        return st;
    }
    struct dft_error err = {0};
    enum dft_err rc = dft_vault_edit(v, cli->argv[0], fields, &err);
    dft_vault_close(v);
    json_decref(fields);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    return print_id(cli, cli->argv[0]);
}

int
cli_id_command(struct dft_cli *cli, dft_cli_id_fn fn)
{
    if (cli->argc != 1) {
        return cli_usage(cli, cli->argc == 0 ? "missing ID" : "too many arguments");
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    enum dft_err rc = fn(v, cli->argv[0], &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    return print_id(cli, cli->argv[0]);
}

int
cmd_delete(struct dft_cli *cli)
{
    return cli_id_command(cli, dft_vault_delete);
}

int
cmd_link(struct dft_cli *cli)
{
    const char *ids[2] = {NULL, NULL};
    const char *role = NULL;
    int n = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--role") == 0) {
            if (i + 1 >= cli->argc) {
                return cli_usage(cli, "--role needs a value");
            }
            role = cli->argv[++i];
        } else if (strncmp(a, "--role=", 7) == 0) {
            role = a + 7;
        } else if (n < 2) {
            ids[n++] = a;
        } else {
            return cli_usage(cli, "too many arguments");
        }
    }
    if (n != 2) {
        return cli_usage(cli, "link needs two record ids");
    }
    if (role == NULL) {
        return cli_usage(cli, "missing --role ROLE");
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    char lid[DFT_ID_MAX];
    enum dft_err rc = dft_vault_link(v, ids[0], ids[1], role, lid, &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    return print_id(cli, lid);
}

struct search_args {
    const char *query;
    const char *type;
    size_t limit;
};

static enum dft_err
query_search(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    const struct search_args *a = ctx;
    return dft_vault_search(v, a->query, a->type, a->limit, out, err);
}

static void
print_hits(const json_t *res)
{
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(res, "hits"), i, h)
    {
        printf("%-22s %-13s %6.3f  %s\n", json_string_value(json_object_get(h, "id")),
               json_string_value(json_object_get(h, "type")),
               json_number_value(json_object_get(h, "score")),
               json_string_value(json_object_get(h, "title")));
    }
}

int
cmd_search(struct dft_cli *cli)
{
    const char *query = NULL;
    const char *type = NULL;
    uint64_t limit = 20;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--type") == 0 && i + 1 < cli->argc) {
            type = cli->argv[++i];
        } else if (strcmp(a, "--limit") == 0 && i + 1 < cli->argc) {
            if (cli_parse_u64(cli->argv[++i], &limit) != 0 || limit == 0 || limit > 10000) {
                return cli_usage(cli, "--limit must be a number from 1 to 10000");
            }
        } else if (strncmp(a, "--", 2) == 0 && strcmp(a, "--") != 0) {
            return cli_usage(cli, "unknown option '%.64s'", a);
        } else if (strcmp(a, "--") == 0 && i + 1 < cli->argc && query == NULL) {
            query = cli->argv[++i];
        } else if (query == NULL) {
            query = a;
        } else {
            return cli_usage(cli, "give the query as one argument (quote it)");
        }
    }
    if (query == NULL) {
        return cli_usage(cli, "missing QUERY");
    }
    if (type != NULL && !dft_record_type_valid(type)) {
        return cli_fail(1,
                        "unknown record type '%.40s' (case, person, event, proceeding, "
                        "source, note, place, organization)",
                        type);
    }
    if (!dft_utf8_valid(query, strlen(query))) {
        return cli_fail(1, "the query is not valid UTF-8 text");
    }
    struct search_args args = {query, type, (size_t)limit};
    return cli_read(cli, query_search, &args, print_hits);
}
