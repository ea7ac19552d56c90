/*
 * merge.c - merging two records into one (reversible; history kept), for `defter merge` and any
 * other front end.
 *
 * A merge is one envelope: a "merge" operation on OTHER (its fields, the names it adds to KEEP
 * and the links it moves, so it can be undone), the moved links (unlink + link to KEEP), an
 * update of KEEP adding OTHER's names to name_variants and OTHER to merged_from, and a delete
 * of OTHER. An undo reads that operation back and reverses each step in a new envelope. Every
 * JSON setter on the operations (which get signed) is checked: a failure is DFT_ERR_NOMEM.
 */
#include <stdint.h>
#include <string.h>

#include "vault/vault_internal.h"

/* Checked jansson setters: *bad becomes 1 on the first failure (nothing is signed then). */
#define ADD_NEW(a, x) (*bad |= json_array_append_new((a), (x)) != 0)
#define ADD(a, x)     (*bad |= json_array_append((a), (x)) != 0)
#define EXTEND(a, x)  (*bad |= json_array_extend((a), (x)) != 0)

/* Names of a record: name and name_variants, as a new array. */
static json_t *
names_of(const json_t *fields, int *bad)
{
    json_t *out = json_array();
    const json_t *n = json_object_get(fields, "name");
    if (json_is_string(n)) {
        ADD(out, (json_t *)(uintptr_t)n);
    }
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(fields, "name_variants"), i, x)
    {
        if (json_is_string(x)) {
            ADD(out, (json_t *)(uintptr_t)x);
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
merge_ops(const json_t *keep, const json_t *other, int *bad)
{
    const char *kid = json_string_value(json_object_get(keep, "id"));
    const char *oid = json_string_value(json_object_get(other, "id"));
    const json_t *kf = json_object_get(keep, "fields");
    const json_t *of = json_object_get(other, "fields");
    json_t *ops = json_array();
    json_t *variants = copy_or_array(json_object_get(kf, "name_variants"));
    json_t *added = json_array();
    json_t *onames = names_of(of, bad);
    const char *kname = json_string_value(json_object_get(kf, "name"));
    size_t i;
    json_t *x;
    json_array_foreach(onames, i, x)
    {
        const char *s = json_string_value(x);
        if (!has_string(variants, s) && (kname == NULL || strcmp(kname, s) != 0)) {
            ADD(variants, x);
            ADD(added, x);
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
        ADD_NEW(linkops, json_pack("{s:s, s:s, s:s, s:{s:s}}", "record", oid, "to", end, "action",
                                   "unlink", "fields", "link", lid));
        if (strcmp(end, kid) != 0) {
            ADD_NEW(linkops, json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "record", out ? kid : end,
                                       "to", out ? end : kid, "action", "link", "fields", "link",
                                       nid, "role", role));
        }
        ADD_NEW(moved, json_pack("{s:s, s:s, s:s, s:s, s:s}", "old", lid, "new", nid, "role", role,
                                 "direction", dir, "other", end));
    }
    json_t *merged = copy_or_array(json_object_get(kf, "merged_from"));
    ADD_NEW(merged, json_string(oid));
    ADD_NEW(ops, json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:O, s:O, s:O}}", "record", oid, "to", kid,
                           "action", "merge", "fields", "into", kid, "type",
                           json_string_value(json_object_get(other, "type")), "fields", of,
                           "added_variants", added, "moved_links", moved));
    EXTEND(ops, linkops);
    ADD_NEW(ops, json_pack("{s:s, s:s, s:{s:O, s:O}}", "record", kid, "action", "update", "fields",
                           "name_variants", variants, "merged_from", merged));
    ADD_NEW(ops, json_pack("{s:s, s:s}", "record", oid, "action", "delete"));
    json_decref(variants);
    json_decref(added);
    json_decref(moved);
    json_decref(linkops);
    json_decref(merged);
    return ops;
}

/* Ops that undo the latest merge of OTHER into KEEP, or NULL if there is none. */
static json_t *
unmerge_ops(const json_t *keep, const json_t *other, int *bad)
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
    ADD_NEW(ops, json_pack("{s:s, s:s, s:s, s:{s:s}}", "record", oid, "to", kid, "action",
                           "unmerge", "fields", "from", kid));
    ADD_NEW(ops, json_pack("{s:s, s:s, s:s, s:O}", "record", oid, "action", "create", "type",
                           json_string_value(json_object_get(m, "type")), "fields",
                           json_object_get(m, "fields")));
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
            ADD_NEW(ops, json_pack("{s:s, s:s, s:s, s:{s:s}}", "record", out ? kid : end, "to",
                                   out ? end : kid, "action", "unlink", "fields", "link", nid));
        }
        char lid[DFT_ID_MAX];
        dft_vault_new_id(lid, "lnk");
        ADD_NEW(ops,
                json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "record", out ? oid : end, "to",
                          out ? end : oid, "action", "link", "fields", "link", lid, "role", role));
    }
    const json_t *kf = json_object_get(keep, "fields");
    json_t *variants = json_array(), *merged = json_array();
    json_array_foreach(json_object_get(kf, "name_variants"), i, x)
    {
        if (!has_string(json_object_get(m, "added_variants"), json_string_value(x))) {
            ADD(variants, x);
        }
    }
    json_array_foreach(json_object_get(kf, "merged_from"), i, x)
    {
        if (!json_is_string(x) || strcmp(json_string_value(x), oid) != 0) {
            ADD(merged, x);
        }
    }
    ADD_NEW(ops, json_pack("{s:s, s:s, s:{s:o, s:o}}", "record", kid, "action", "update", "fields",
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

enum dft_err
dft_vault_merge(struct dft_vault *v, const char *keep_id, const char *other_id, unsigned flags,
                json_t **out, struct dft_error *err)
{
    int undo = (flags & DFT_MERGE_UNDO) != 0;
    int bad = 0;
    json_t *keep = NULL, *other = NULL, *ops = NULL, *opids = NULL;
    enum dft_err rc;

    *out = NULL;
    if (strcmp(keep_id, other_id) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot merge a record into itself");
    }
    rc = dft_vault_show(v, keep_id, DFT_SHOW_HISTORY, &keep, err);
    if (rc == DFT_OK) {
        rc = dft_vault_show(v, other_id, DFT_SHOW_HISTORY, &other, err);
    }
    if (rc != DFT_OK) {
        goto out;
    }
    int kdel = json_is_true(json_object_get(keep, "deleted"));
    int odel = json_is_true(json_object_get(other, "deleted"));
    const char *kt = json_string_value(json_object_get(keep, "type"));
    const char *ot = json_string_value(json_object_get(other, "type"));
    if (kt == NULL || ot == NULL || json_object_get(keep, "fields") == NULL) {
        rc = dft_fail(err, DFT_ERR_INPUT, "'%.48s' or '%.48s' is not a record", keep_id, other_id);
        goto out;
    }
    if (kdel) {
        rc = dft_fail(err, DFT_ERR_INPUT, "record '%.48s' is deleted", keep_id);
        goto out;
    }
    if (!undo) {
        if (odel) {
            rc = dft_fail(err, DFT_ERR_INPUT, "record '%.48s' is deleted", other_id);
            goto out;
        }
        if (strcmp(kt, ot) != 0) {
            rc = dft_fail(err, DFT_ERR_INPUT, "cannot merge a %.20s into a %.20s", ot, kt);
            goto out;
        }
        ops = merge_ops(keep, other, &bad);
    } else {
        ops = odel ? unmerge_ops(keep, other, &bad) : NULL;
        if (ops == NULL && !bad) {
            rc = dft_fail(err, DFT_ERR_INPUT, "'%.48s' is not merged into '%.48s'", other_id,
                          keep_id);
            goto out;
        }
    }
    if (bad || ops == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = dft_vault_append_ops(v, ops, &opids, err);
    if (rc != DFT_OK) {
        goto out;
    }
    *out = json_pack("{s:s, s:s, s:s, s:O}", "keep", keep_id, "other", other_id, "action",
                     undo ? "unmerge" : "merge", "ops", opids);
    if (*out == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    json_decref(keep);
    json_decref(other);
    json_decref(ops);
    json_decref(opids);
    return rc;
}
