/*
 * cmd_merge.c - duplicates and merge: candidate pairs of records that are likely one person,
 * and merging two records into one (reversible; history kept).
 *
 * A merge is one envelope: a "merge" operation on OTHER (its fields, the names it adds to KEEP
 * and the links it moves, so it can be undone), the moved links (unlink + link to KEEP), an
 * update of KEEP adding OTHER's names to name_variants and OTHER to merged_from, and a delete
 * of OTHER. `merge --undo KEEP OTHER` reads that operation back and reverses each step in a
 * new envelope. Never prints record contents to stderr.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "defter/search.h"

struct duplicates_args {
    const char *type;
    size_t limit;
};

static enum dft_err
query_duplicates(struct dft_vault *v, void *ctx, json_t **out, struct dft_error *err)
{
    const struct duplicates_args *a = ctx;
    return dft_search_duplicates(dft_vault_db(v), a->type, a->limit, out, err);
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
dft_cmd_duplicates(struct dft_cli *cli)
{
    const char *type = "person";
    uint64_t limit = 100;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--type") == 0 && i + 1 < cli->argc) {
            type = cli->argv[++i];
        } else if (strcmp(a, "--limit") == 0 && i + 1 < cli->argc) {
            if (dft_cli_parse_u64(cli->argv[++i], &limit) != 0 || limit == 0 || limit > 100000) {
                return dft_cli_usage(cli, "--limit needs a number from 1 to 100000");
            }
        } else {
            return dft_cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (!dft_record_type_valid(type)) {
        return dft_cli_fail(1, "unknown record type '%.40s'", type);
    }
    struct duplicates_args args = {type, (size_t)limit};
    return dft_cli_read(cli, query_duplicates, &args, print_pairs);
}

/* Names of a record: name and name_variants, as a new array. */
static json_t *
names_of(const json_t *fields)
{
    json_t *out = json_array();
    const json_t *n = json_object_get(fields, "name");
    if (json_is_string(n)) {
        json_array_append(out, (json_t *)(uintptr_t)n);
    }
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(fields, "name_variants"), i, x)
    {
        if (json_is_string(x)) {
            json_array_append(out, (json_t *)(uintptr_t)x);
        }
    }
    return out;
}

static int
has_string(const json_t *arr, const char *s)
{
    size_t i;
    const json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0) {
            return 1;
        }
    }
    return 0;
}

static json_t *
copy_or_array(const json_t *a)
{
    return json_is_array(a) ? json_deep_copy(a) : json_array();
}

/* Ops that fold OTHER into KEEP. */
static json_t *
merge_ops(const json_t *keep, const json_t *other)
{
    const char *kid = json_string_value(json_object_get(keep, "id"));
    const char *oid = json_string_value(json_object_get(other, "id"));
    const json_t *kf = json_object_get(keep, "fields");
    const json_t *of = json_object_get(other, "fields");
    json_t *ops = json_array();
    json_t *variants = copy_or_array(json_object_get(kf, "name_variants"));
    json_t *added = json_array();
    json_t *onames = names_of(of);
    const char *kname = json_string_value(json_object_get(kf, "name"));
    size_t i;
    json_t *x;
    json_array_foreach(onames, i, x)
    {
        const char *s = json_string_value(x);
        if (!has_string(variants, s) && (kname == NULL || strcmp(kname, s) != 0)) {
            json_array_append(variants, x);
            json_array_append(added, x);
        }
    }
    json_decref(onames);
    json_t *moved = json_array();
    json_t *linkops = json_array();
    json_array_foreach(json_object_get(other, "relations"), i, x)
    {
        const char *lid = json_string_value(json_object_get(x, "id"));
        const char *role = json_string_value(json_object_get(x, "role"));
        const char *dir = json_string_value(json_object_get(x, "direction"));
        const char *end = json_string_value(json_object_get(x, "other"));
        if (lid == NULL || role == NULL || dir == NULL || end == NULL) {
            continue;
        }
        int out = strcmp(dir, "out") == 0;
        char nid[DFT_ID_MAX];
        dft_vault_new_id(nid, "lnk");
        json_array_append_new(linkops, json_pack("{s:s, s:s, s:s, s:{s:s}}", "record", oid, "to",
                                                 end, "action", "unlink", "fields", "link", lid));
        if (strcmp(end, kid) != 0) {
            json_array_append_new(linkops,
                                  json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "record",
                                            out ? kid : end, "to", out ? end : kid, "action",
                                            "link", "fields", "link", nid, "role", role));
        }
        json_array_append_new(moved, json_pack("{s:s, s:s, s:s, s:s, s:s}", "old", lid, "new", nid,
                                               "role", role, "direction", dir, "other", end));
    }
    json_t *merged = copy_or_array(json_object_get(kf, "merged_from"));
    json_array_append_new(merged, json_string(oid));
    json_array_append_new(ops,
                          json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:O, s:O, s:O}}", "record", oid,
                                    "to", kid, "action", "merge", "fields", "into", kid, "type",
                                    json_string_value(json_object_get(other, "type")), "fields", of,
                                    "added_variants", added, "moved_links", moved));
    json_array_extend(ops, linkops);
    json_array_append_new(ops,
                          json_pack("{s:s, s:s, s:{s:O, s:O}}", "record", kid, "action", "update",
                                    "fields", "name_variants", variants, "merged_from", merged));
    json_array_append_new(ops, json_pack("{s:s, s:s}", "record", oid, "action", "delete"));
    json_decref(variants);
    json_decref(added);
    json_decref(moved);
    json_decref(linkops);
    json_decref(merged);
    return ops;
}

/* Ops that undo the latest merge of OTHER into KEEP, or NULL if there is none. */
static json_t *
unmerge_ops(const json_t *keep, const json_t *other)
{
    const char *kid = json_string_value(json_object_get(keep, "id"));
    const char *oid = json_string_value(json_object_get(other, "id"));
    const json_t *m = NULL;
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(other, "history"), i, h)
    {
        const json_t *op = json_object_get(h, "op") ? json_object_get(h, "op") : h;
        const char *act = json_string_value(json_object_get(op, "action"));
        const json_t *f = json_object_get(op, "fields");
        const char *into = json_string_value(json_object_get(f, "into"));
        if (act != NULL && strcmp(act, "merge") == 0 && into != NULL && strcmp(into, kid) == 0) {
            m = f;
        } else if (act != NULL && strcmp(act, "unmerge") == 0) {
            m = NULL;
        }
    }
    if (m == NULL) {
        return NULL;
    }
    json_t *ops = json_array();
    json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:{s:s}}", "record", oid, "to", kid,
                                         "action", "unmerge", "fields", "from", kid));
    json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:O}", "record", oid, "action", "create",
                                         "type", json_string_value(json_object_get(m, "type")),
                                         "fields", json_object_get(m, "fields")));
    json_t *x;
    json_array_foreach(json_object_get(m, "moved_links"), i, x)
    {
        const char *dir = json_string_value(json_object_get(x, "direction"));
        const char *end = json_string_value(json_object_get(x, "other"));
        const char *role = json_string_value(json_object_get(x, "role"));
        const char *nid = json_string_value(json_object_get(x, "new"));
        if (dir == NULL || end == NULL || role == NULL || nid == NULL) {
            continue;
        }
        int out = strcmp(dir, "out") == 0;
        if (strcmp(end, kid) != 0) {
            json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:{s:s}}", "record",
                                                 out ? kid : end, "to", out ? end : kid, "action",
                                                 "unlink", "fields", "link", nid));
        }
        char lid[DFT_ID_MAX];
        dft_vault_new_id(lid, "lnk");
        json_array_append_new(ops, json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "record",
                                             out ? oid : end, "to", out ? end : oid, "action",
                                             "link", "fields", "link", lid, "role", role));
    }
    const json_t *kf = json_object_get(keep, "fields");
    json_t *variants = json_array(), *merged = json_array();
    json_array_foreach(json_object_get(kf, "name_variants"), i, x)
    {
        if (!has_string(json_object_get(m, "added_variants"), json_string_value(x))) {
            json_array_append(variants, x);
        }
    }
    json_array_foreach(json_object_get(kf, "merged_from"), i, x)
    {
        if (!json_is_string(x) || strcmp(json_string_value(x), oid) != 0) {
            json_array_append(merged, x);
        }
    }
    json_array_append_new(
        ops, json_pack("{s:s, s:s, s:{s:o, s:o}}", "record", kid, "action", "update", "fields",
                       "name_variants", json_array_size(variants) ? variants : json_null(),
                       "merged_from", json_array_size(merged) ? merged : json_null()));
    if (json_array_size(variants) == 0) {
        json_decref(variants);
    }
    if (json_array_size(merged) == 0) {
        json_decref(merged);
    }
    return ops;
}

int
dft_cmd_merge(struct dft_cli *cli)
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
            return dft_cli_usage(cli, "unexpected argument '%.64s'", a);
        }
    }
    if (n != 2) {
        return dft_cli_usage(cli, "give the record to keep and the one to merge into it");
    }
    if (strcmp(ids[0], ids[1]) == 0) {
        return dft_cli_fail(1, "cannot merge a record into itself");
    }
    struct dft_vault *v = NULL;
    int st = dft_cli_open_vault(cli, &v);
    if (st != 0) {
        return st;
    }
    struct dft_error err = {0};
    json_t *keep = NULL, *other = NULL, *ops = NULL, *opids = NULL;
    enum dft_err rc = dft_vault_show(v, ids[0], DFT_SHOW_HISTORY, &keep, &err);
    if (rc == DFT_OK) {
        rc = dft_vault_show(v, ids[1], DFT_SHOW_HISTORY, &other, &err);
    }
    if (rc != DFT_OK) {
        st = dft_cli_report(&err);
        goto out;
    }
    int kdel = json_is_true(json_object_get(keep, "deleted"));
    int odel = json_is_true(json_object_get(other, "deleted"));
    const char *kt = json_string_value(json_object_get(keep, "type"));
    const char *ot = json_string_value(json_object_get(other, "type"));
    if (kt == NULL || ot == NULL || json_object_get(keep, "fields") == NULL) {
        st = dft_cli_fail(1, "'%.48s' or '%.48s' is not a record", ids[0], ids[1]);
        goto out;
    }
    if (kdel) {
        st = dft_cli_fail(1, "record '%.48s' is deleted", ids[0]);
        goto out;
    }
    if (!undo) {
        if (odel) {
            st = dft_cli_fail(1, "record '%.48s' is deleted", ids[1]);
            goto out;
        }
        if (strcmp(kt, ot) != 0) {
            st = dft_cli_fail(1, "cannot merge a %.20s into a %.20s", ot, kt);
            goto out;
        }
        ops = merge_ops(keep, other);
    } else {
        ops = odel ? unmerge_ops(keep, other) : NULL;
        if (ops == NULL) {
            st = dft_cli_fail(1, "'%.48s' is not merged into '%.48s'", ids[1], ids[0]);
            goto out;
        }
    }
    rc = dft_vault_append_ops(v, ops, &opids, &err);
    if (rc != DFT_OK) {
        st = dft_cli_report(&err);
        goto out;
    }
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:O}", "keep", ids[0], "other", ids[1], "action",
                              undo ? "unmerge" : "merge", "ops", opids);
        dft_cli_print_json(o);
        json_decref(o);
    } else {
        printf("%s %s %s %s\n", undo ? "unmerged" : "merged", ids[1], undo ? "from" : "into",
               ids[0]);
    }
    st = 0;
out:
    json_decref(keep);
    json_decref(other);
    json_decref(ops);
    json_decref(opids);
    dft_vault_close(v);
    return st;
}
