/*
 * cmd_daily.c - the commands of daily work: schema, restore, list with filters, import and
 * export of spreadsheets, and the schema of a type for `add --help TYPE`.
 *
 * Each parses its arguments, calls one library function and prints. Export output is plain
 * text for the user's own use; stderr says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "crypto/hash.h"
#include "defter/evidence.h"
#include "defter/model.h"

#define CSV_INPUT_MAX (256u * 1024u * 1024u)

/* ---- schema ---- */

static void
print_schema(const json_t *s)
{
    const char *type;
    json_t *t;
    json_object_foreach(json_object_get(s, "types"), type, t)
    {
        printf("%s\n", type);
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(t, "fields"), i, f)
        {
            printf("  %-16s %-9s", json_string_value(json_object_get(f, "name")),
                   json_string_value(json_object_get(f, "kind")));
            json_t *vals = json_object_get(f, "values");
            if (vals != NULL) {
                size_t k;
                json_t *v;
                json_array_foreach(vals, k, v)
                {
                    printf("%s%s", k == 0 ? " " : "|", json_string_value(v));
                }
            }
            if (json_is_true(json_object_get(f, "required"))) {
                printf(" (required)");
            }
            if (json_is_true(json_object_get(f, "custom"))) {
                printf(" (added to this vault)");
            }
            putchar('\n');
        }
    }
    printf("roles of links:");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(s, "roles"), i, r)
    {
        printf(" %s", json_string_value(r));
    }
    printf("\ndates: ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD; ~ at the end when approximate.\n"
           "fields named x-... are free and not checked.\n");
}

/* `add --help TYPE`: the built-in schema of TYPE, without unlocking. */
int
dft_cli_schema_help(const char *type)
{
    json_t *s = NULL;
    struct dft_error err = {0};
    if (dft_schema_get(NULL, type, &s, &err) != DFT_OK) {
        return cli_report(&err);
    }
    printf("fields of a %s (`defter schema %s` adds this vault's own):\n", type, type);
    print_schema(s);
    json_decref(s);
    return 0;
}

static enum dft_err
query_schema(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    return dft_schema_get(v, ctx, out, err);
}

int
dft_cmd_schema(struct dft_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "add-field") == 0) {
        if (cli->argc != 4) {
            return cli_usage(cli, "schema add-field TYPE NAME KIND");
        }
        if (!dft_record_type_valid(cli->argv[1])) {
            return cli_fail(1,
                            "unknown record type '%.40s' (case, person, event, proceeding, "
                            "source, note, place, organization)",
                            cli->argv[1]);
        }
    } else if (cli->argc >= 1 && strcmp(cli->argv[0], "add-role") == 0) {
        if (cli->argc != 2) {
            return cli_usage(cli, "schema add-role NAME");
        }
    } else {
        if (cli->argc > 1) {
            return cli_usage(cli, "too many arguments");
        }
        const char *type = cli->argc == 1 ? cli->argv[0] : NULL;
        if (type != NULL && !dft_record_type_valid(type)) {
            return cli_fail(1,
                            "unknown record type '%.40s' (case, person, event, proceeding, "
                            "source, note, place, organization)",
                            type);
        }
        return cli_read(cli, query_schema, (void *)(uintptr_t)type, print_schema);
    }
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    enum dft_err rc = cli->argc == 4
                          ? dft_schema_add_field(v, cli->argv[1], cli->argv[2], cli->argv[3], &err)
                          : dft_schema_add_role(v, cli->argv[1], &err);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    if (cli->json) {
        json_t *o = json_pack("{sb}", "ok", 1);
        cli_print_json(o);
        json_decref(o);
    }
    return 0;
}

/* ---- restore ---- */

int
dft_cmd_restore(struct dft_cli *cli)
{
    return cli_id_command(cli, dft_vault_restore);
}

/* ---- list with filters ---- */

struct list_args {
    const char *type;
    json_t *query;
};

static enum dft_err
query_list(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    const struct list_args *a = ctx;
    return dft_vault_list_query(v, a->type, a->query, out, err);
}

static void
print_rows(const json_t *list)
{
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)(uintptr_t)list, i, r)
    {
        const char *date = json_string_value(json_object_get(json_object_get(r, "fields"), "date"));
        printf("%-22s %-13s %s%s%s%s\n", json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "type")),
               json_string_value(json_object_get(r, "title")), date != NULL ? "  (" : "",
               date != NULL ? date : "", date != NULL ? ")" : "");
    }
}

/* Parse TYPE, --where F=V..., --sort F, --from D, --to D, --deleted into a list query. */
static int
parse_list_args(struct dft_cli *cli, int first, struct list_args *a)
{
    a->type = NULL;
    a->query = json_pack("{s{}}", "where");
    for (int i = first; i < cli->argc; i++) {
        const char *x = cli->argv[i];
        const char *val = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(x, "--where") == 0 || strcmp(x, "--sort") == 0 || strcmp(x, "--from") == 0 ||
            strcmp(x, "--to") == 0) {
            if (val == NULL) {
                return cli_usage(cli, "%s needs a value", x);
            }
            i++;
            if (strcmp(x, "--where") == 0) {
                const char *eq = strchr(val, '=');
                if (eq == NULL || eq == val) {
                    return cli_usage(cli, "--where needs FIELD=VALUE, not '%.64s'", val);
                }
                char field[80];
                snprintf(field, sizeof field, "%.*s", (int)(eq - val < 79 ? eq - val : 79), val);
                json_object_set_new(json_object_get(a->query, "where"), field, json_string(eq + 1));
            } else {
                json_object_set_new(a->query, x + 2, json_string(val));
            }
        } else if (strcmp(x, "--deleted") == 0) {
            json_object_set_new(a->query, "deleted", json_true());
        } else if (strncmp(x, "--", 2) == 0) {
            return cli_usage(cli, "unknown option '%.64s'", x);
        } else if (a->type == NULL) {
            a->type = x;
        } else {
            return cli_usage(cli, "too many arguments");
        }
    }
    if (a->type != NULL && !dft_record_type_valid(a->type)) {
        return cli_fail(1,
                        "unknown record type '%.40s' (case, person, event, proceeding, "
                        "source, note, place, organization)",
                        a->type);
    }
    return 0;
}

int
dft_cmd_list_query(struct dft_cli *cli)
{
    struct list_args a;
    int st = parse_list_args(cli, 0, &a);
    if (st == 0) {
        st = cli_read(cli, query_list, &a, print_rows);
    }
    json_decref(a.query);
    return st;
}

/* ---- history ---- */

/* RFC 3339 UTC (with milliseconds) as local time without them: "2026-12-07 14:05:33". */
void
dft_cli_local_time(const char *ts, char *out, size_t max)
{
    struct tm tm = {0};
    const char *end = ts != NULL ? strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (end == NULL) {
        snprintf(out, max, "%s", ts != NULL ? ts : "");
        return;
    }
    time_t t = timegm(&tm);
    struct tm lt;
    localtime_r(&t, &lt);
    strftime(out, max, "%Y-%m-%d %H:%M:%S", &lt);
}

static void
print_json_value(const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        fputs("(none)", stdout);
    } else if (json_is_string(v)) {
        printf("'%s'", json_string_value(v));
    } else {
        json_dumpf(v, stdout, JSON_ENCODE_ANY | JSON_COMPACT);
    }
}

void
dft_cli_print_history(const json_t *hist)
{
    size_t i;
    json_t *e;
    if (json_array_size(hist) == 0) {
        return;
    }
    printf("history:\n");
    json_array_foreach((json_t *)(uintptr_t)hist, i, e)
    {
        char when[64];
        dft_cli_local_time(json_string_value(json_object_get(e, "ts")), when, sizeof when);
        const char *author = json_string_value(json_object_get(e, "author"));
        char who[16];
        if (json_is_true(json_object_get(e, "by_vault_owner"))) {
            snprintf(who, sizeof who, "you");
        } else {
            snprintf(who, sizeof who, "%.8s", author != NULL ? author : "?");
        }
        printf("  %s  %-4s %s", when, who, json_string_value(json_object_get(e, "action")));
        const char *role = json_string_value(json_object_get(e, "role"));
        const char *other = json_string_value(json_object_get(e, "other"));
        const char *name = json_string_value(json_object_get(e, "name"));
        if (role != NULL) {
            printf(" as %s", role);
        }
        if (other != NULL) {
            printf(" %s", other);
        }
        if (name != NULL) {
            printf(" '%s'", name);
        }
        putchar('\n');
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(e, "changes"), k, c)
        {
            printf("      %s: ", json_string_value(json_object_get(c, "field")));
            print_json_value(json_object_get(c, "old"));
            fputs(" -> ", stdout);
            print_json_value(json_object_get(c, "new"));
            putchar('\n');
        }
    }
}

/* ---- import ---- */

static int
read_all(const char *path, struct dft_buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return cli_fail(1, "cannot open '%s': %s", path, strerror(errno));
    }
    char chunk[65536];
    size_t n;
    enum dft_err rc = DFT_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && rc == DFT_OK) {
        rc = dft_buf_add(b, chunk, n);
    }
    int ioerr = ferror(f);
    if (f != stdin) {
        fclose(f);
    }
    if (rc != DFT_OK) {
        return cli_fail(1, "'%s' is too large", path);
    }
    if (ioerr) {
        return cli_fail(1, "cannot read '%s'", path);
    }
    return 0;
}

int
dft_cmd_import(struct dft_cli *cli)
{
    const char *file = NULL, *type = NULL;
    int dry = 0;
    json_t *map = json_object();
    int st = 0;
    for (int i = 0; i < cli->argc && st == 0; i++) {
        const char *x = cli->argv[i];
        const char *val = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(x, "--dry-run") == 0) {
            dry = 1;
        } else if (strcmp(x, "--csv") == 0 || strcmp(x, "--type") == 0 || strcmp(x, "--map") == 0) {
            if (val == NULL) {
                st = cli_usage(cli, "%s needs a value", x);
                break;
            }
            i++;
            if (x[2] == 'c') {
                file = val;
            } else if (x[2] == 't') {
                type = val;
            } else {
                const char *eq = strchr(val, '=');
                if (eq == NULL || eq == val || eq[1] == '\0') {
                    st = cli_usage(cli, "--map needs COLUMN=FIELD, not '%.64s'", val);
                    break;
                }
                char col[256];
                snprintf(col, sizeof col, "%.*s", (int)(eq - val < 255 ? eq - val : 255), val);
                json_object_set_new(map, col, json_string(eq + 1));
            }
        } else {
            st = cli_usage(cli, "unknown argument '%.64s'", x);
        }
    }
    if (st == 0 && (file == NULL || type == NULL)) {
        st = cli_usage(cli, "give --csv FILE and --type TYPE");
    }
    if (st == 0 && !dft_record_type_valid(type)) {
        st = cli_fail(1,
                      "unknown record type '%.40s' (case, person, event, proceeding, "
                      "source, note, place, organization)",
                      type);
    }
    struct dft_buf b;
    dft_buf_init(&b, CSV_INPUT_MAX, 0);
    if (st == 0) {
        st = read_all(file, &b);
    }
    struct dft_vault *v = NULL;
    if (st == 0) {
        st = cli_open_vault(cli, &v);
    }
    if (st == 0) {
        struct dft_error err = {0};
        json_t *ids = NULL;
        enum dft_err rc = dft_csv_import(v, b.data != NULL ? (const char *)b.data : "", b.len, type,
                                         map, dry, &ids, &err);
        dft_vault_close(v);
        if (rc != DFT_OK) {
            st = cli_report(&err);
        } else if (cli->json) {
            json_t *o =
                dry ? json_pack("{sIsb}", "count", (json_int_t)json_array_size(ids), "dry_run", 1)
                    : json_pack("{sO}", "ids", ids);
            cli_print_json(o);
            json_decref(o);
        } else if (dry) {
            printf("%zu records would be added (dry run: nothing written)\n", json_array_size(ids));
        } else {
            size_t i;
            json_t *id;
            json_array_foreach(ids, i, id)
            {
                printf("%s\n", json_string_value(id));
            }
        }
        json_decref(ids);
    }
    dft_buf_release(&b);
    json_decref(map);
    return st;
}

/* ---- export ---- */

int
dft_cmd_export_table(struct dft_cli *cli)
{
    int csv = -1;
    /* --csv / --json (the global --json is taken out by main: it means JSON here) */
    char **rest = cli->argv;
    int n = 0;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--csv") == 0) {
            csv = 1;
        } else {
            rest[n++] = cli->argv[i];
        }
    }
    if (csv < 0) {
        csv = cli->json ? 0 : -1;
    }
    if (csv < 0) {
        return cli_usage(cli, "give --csv or --json");
    }
    struct dft_cli sub = *cli;
    sub.argc = n;
    sub.argv = rest;
    struct list_args a;
    int st = parse_list_args(&sub, 0, &a);
    struct dft_vault *v = NULL;
    if (st == 0) {
        st = cli_open_vault(cli, &v);
    }
    if (st == 0) {
        struct dft_error err = {0};
        json_t *list = NULL;
        enum dft_err rc = dft_vault_list_query(v, a.type, a.query, &list, &err);
        dft_vault_close(v);
        struct dft_buf out;
        dft_buf_init(&out, (size_t)1 << 34, 1);
        if (rc == DFT_OK && csv) {
            rc = dft_csv_export(list, &out, &err);
        }
        if (rc != DFT_OK) {
            st = cli_report(&err);
        } else {
            fprintf(stderr, "defter: the export is plain text, not encrypted: keep it safe and "
                            "delete it when done\n");
            if (csv) {
                fwrite(out.data != NULL ? (const char *)out.data : "", 1, out.len, stdout);
            } else {
                json_dumpf(list, stdout, JSON_INDENT(2));
                fputc('\n', stdout);
            }
            fflush(stdout);
        }
        dft_buf_release(&out);
        json_decref(list);
    }
    json_decref(a.query);
    return st;
}

/* ---- show ---- */

enum dft_err
dft_cli_show_more(struct dft_vault *v, json_t *rec, struct dft_error *err)
{
    const char *type = json_string_value(json_object_get(rec, "type"));
    const char *id = json_string_value(json_object_get(rec, "id"));
    if (type != NULL && strcmp(type, "link") == 0) {
        static const char *const ends[] = {"from", "to"};
        for (int i = 0; i < 2; i++) {
            json_t *o = NULL;
            struct dft_error e2 = {0};
            const char *end = json_string_value(json_object_get(rec, ends[i]));
            if (end != NULL && dft_vault_show(v, end, 0, &o, &e2) == DFT_OK) {
                json_object_set_new(rec, i == 0 ? "from_record" : "to_record",
                                    json_pack("{sO sO sO sO}", "id", json_object_get(o, "id"),
                                              "type", json_object_get(o, "type"), "title",
                                              json_object_get(o, "title"), "deleted",
                                              json_object_get(o, "deleted")));
                json_decref(o);
            }
        }
        return DFT_OK;
    }
    if (id == NULL) {
        return DFT_OK;
    }
    json_t *h = NULL;
    enum dft_err rc = dft_vault_history(v, id, &h, err);
    if (rc == DFT_OK) {
        json_object_set_new(rec, "changes", h);
    }
    return rc;
}

void
dft_cli_print_link_ends(const json_t *r)
{
    static const char *const ends[] = {"from", "to"};
    printf("  role: %s\n", json_string_value(json_object_get(r, "role")));
    for (int i = 0; i < 2; i++) {
        const json_t *o = json_object_get(r, i == 0 ? "from_record" : "to_record");
        printf("  %-5s %s  %s %s%s\n", ends[i], json_string_value(json_object_get(r, ends[i])),
               o != NULL ? json_string_value(json_object_get(o, "type")) : "",
               o != NULL ? json_string_value(json_object_get(o, "title")) : "(unknown)",
               json_is_true(json_object_get(o, "deleted")) ? " (deleted)" : "");
    }
    if (json_is_true(json_object_get(r, "deleted"))) {
        printf("  this link is deleted\n");
    }
}

/* ---- extract: "-" for stdout, a directory for the stored name, --force to replace ---- */

static int
extract_stdout(struct dft_cli *cli, const char *evid)
{
    struct dft_vault *v = NULL;
    int st = cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *ev = NULL, *ops = NULL;
    struct dft_evidence_obj *o = NULL;
    unsigned char *buf = NULL;
    struct crypto_sha256 h;
    int hashing = 0;
    enum dft_err rc = dft_vault_show(v, evid, 0, &ev, &err);
    const char *object = json_string_value(json_object_get(ev, "object"));
    const char *want = json_string_value(json_object_get(ev, "sha256"));
    if (rc == DFT_OK && (object == NULL || want == NULL)) {
        rc = dft_fail(&err, DFT_ERR_INPUT, "'%s' is not evidence", evid);
    }
    if (rc == DFT_OK) {
        rc = dft_vault_evidence_open(v, evid, &o, &err); /* checked against the record's SHA-256 */
    }
    if (rc == DFT_OK && (rc = crypto_sha256_init(&h, &err)) == DFT_OK) {
        hashing = 1;
    }
    buf = rc == DFT_OK ? malloc(1u << 20) : NULL;
    if (rc == DFT_OK && buf == NULL) {
        rc = dft_fail(&err, DFT_ERR_NOMEM, "out of memory");
    }
    for (uint64_t off = 0; rc == DFT_OK;) {
        size_t n = 0;
        rc = dft_evidence_read(o, off, buf, 1u << 20, &n, &err);
        if (rc != DFT_OK || n == 0) {
            break;
        }
        crypto_sha256_update(&h, buf, n);
        if (fwrite(buf, 1, n, stdout) != n) {
            rc = dft_fail(&err, DFT_ERR_IO, "cannot write to stdout");
        }
        off += n;
    }
    char hex[DFT_SHA256_HEX_BYTES];
    if (rc == DFT_OK && fflush(stdout) != 0) {
        rc = dft_fail(&err, DFT_ERR_IO, "cannot write to stdout");
    }
    if (rc == DFT_OK) {
        unsigned char sha[DFT_HASH_BYTES];
        crypto_sha256_final(&h, sha);
        dft_hex_encode(hex, sha, sizeof sha);
        if (strcmp(hex, want) != 0) {
            rc = dft_fail(&err, DFT_ERR_INTEGRITY,
                          "evidence '%s' does not match its SHA-256: discard the output", evid);
        }
    }
    if (rc == DFT_OK) {
        ops = json_pack("[{ss ss s{ss ss ss}}]", "record", evid, "action", "custody", "fields",
                        "event", "extract", "sha256", hex, "to", "stdout");
        rc = ops != NULL ? dft_vault_append_ops(v, ops, NULL, &err)
                         : dft_fail(&err, DFT_ERR_NOMEM, "out of memory");
    }
    if (hashing) {
        crypto_sha256_release(&h);
    }
    free(buf);
    json_decref(ops);
    json_decref(ev);
    dft_evidence_close(o);
    dft_vault_close(v);
    if (rc != DFT_OK) {
        return cli_report(&err);
    }
    fprintf(stderr, "%s  -\n", hex);
    return 0;
}

/* The stored file name of evidence, made safe as one path component. */
static enum dft_err
query_stored_name(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    return dft_vault_show(v, ctx, 0, out, err);
}

int
dft_cmd_extract_to(struct dft_cli *cli)
{
    int force = 0;
    char *args[2];
    int n = 0;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--force") == 0) {
            force = 1;
        } else if (n < 2) {
            args[n++] = cli->argv[i];
        } else {
            return cli_usage(cli, "too many arguments");
        }
    }
    if (n != 2) {
        return cli_usage(cli, "missing EVIDENCE-ID or OUT");
    }
    if (strcmp(args[1], "-") == 0) {
        return extract_stdout(cli, args[0]);
    }
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s", args[1]);
    if (stat(args[1], &sb) == 0 && S_ISDIR(sb.st_mode)) {
        struct dft_vault *v = NULL;
        int st = cli_open_vault(cli, &v);
        if (st != 0) {
            return st;
        }
        json_t *ev = NULL;
        struct dft_error err = {0};
        enum dft_err rc = query_stored_name(v, args[0], &ev, &err);
        dft_vault_close(v);
        if (rc != DFT_OK) {
            return cli_report(&err);
        }
        const char *name = json_string_value(json_object_get(ev, "name"));
        const char *base = name != NULL ? strrchr(name, '/') : NULL;
        base = base != NULL ? base + 1 : name;
        if (base == NULL || base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
            base = args[0];
        }
        snprintf(path, sizeof path, "%s/%s", args[1], base);
        json_decref(ev);
        if (strlen(path) >= 4096) {
            return cli_fail(1, "the output path is too long");
        }
    }
    if (!force && lstat(path, &sb) == 0) {
        return cli_fail(1, "'%s' exists; give --force to replace it", path);
    }
    char *sub_argv[2] = {args[0], path};
    struct dft_cli sub = *cli;
    sub.argc = 2;
    sub.argv = sub_argv;
    return cmd_extract(&sub);
}

void
dft_cli_print_photo_meta(const json_t *meta)
{
    const char *taken = json_string_value(json_object_get(meta, "taken"));
    const char *make = json_string_value(json_object_get(meta, "camera_make"));
    const char *model = json_string_value(json_object_get(meta, "camera_model"));
    const json_t *gps = json_object_get(meta, "gps");
    const char *lat = json_string_value(json_object_get(gps, "lat"));
    const char *lon = json_string_value(json_object_get(gps, "lon"));
    if (taken == NULL && make == NULL && model == NULL && lat == NULL) {
        return;
    }
    printf("     ");
    if (taken != NULL) {
        printf(" taken %s", taken);
    }
    if (make != NULL || model != NULL) {
        printf("  camera %s%s%s", make != NULL ? make : "",
               make != NULL && model != NULL ? " " : "", model != NULL ? model : "");
    }
    if (lat != NULL && lon != NULL) {
        printf("  GPS %s, %s", lat, lon);
    }
    putchar('\n');
}
