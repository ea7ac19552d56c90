/*
 * conflict.c - the merge rule: parents, heads, concurrent writes and concurrent deletes.
 *
 * Every operation names the operations on its records that its author had seen as heads
 * (`parents`). An operation without `parents` (made before sync existed) has as its parent the
 * latest earlier operation on the record by the same author. Ancestry is the transitive closure
 * of parents among the operations of one record. Two writes of one field, neither an ancestor of
 * the other, are concurrent: the later in merged order shows (the view applies operations in
 * that order) and a conflict lists them until a write of that field descends from them all. A
 * delete concurrent with an edit is kept out of the tables (the record stays) and raises a
 * conflict on "_deleted" until an operation descends from both. Links and evidence have their
 * own ids, so adds are never undone by a concurrent operation (add-wins).
 *
 * Never reads a clock; the result depends only on the operations and their order.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "vault/idset.h"
#include "vault/schema.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

static int
is_edit(const char *action)
{
    static const char *const edits[] = {"create",   "update",  "link",  "unlink",
                                        "evidence", "restore", "merge", NULL};
    for (size_t i = 0; action != NULL && edits[i] != NULL; i++) {
        if (strcmp(action, edits[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *
op_str(const json_t *op, const char *key)
{
    return json_string_value(json_object_get(op, key));
}

/* One record's operations: local indices, parents resolved to earlier local indices. */
struct group {
    const struct merge_op *all;
    size_t *g;    /* global index of each local op */
    size_t m;     /* ops */
    size_t **par; /* parents of each op (local indices), par_n[j] of them */
    size_t *par_n;
    uint64_t *anc; /* m rows of words bits: ancestors (only when concurrent) */
    size_t words;
};

static const json_t *
gop(const struct group *gr, size_t j)
{
    return gr->all[gr->g[j]].op;
}

static int
anc_has(const struct group *gr, size_t j, size_t k)
{
    return (gr->anc[j * gr->words + k / 64] >> (k % 64)) & 1u;
}

static void
group_free(struct group *gr)
{
    for (size_t j = 0; gr->par != NULL && j < gr->m; j++) {
        free(gr->par[j]);
    }
    free(gr->par);
    free(gr->par_n);
    free(gr->anc);
    memset(gr, 0, sizeof *gr);
}

/* Resolve parents; *concurrent: some op did not descend from every head before it. */
static enum dft_err
group_parents(struct group *gr, int *concurrent, json_t *heads_out, struct dft_error *err)
{
    json_t *ids = json_object();  /* op id -> local index */
    json_t *last = json_object(); /* author -> latest local index */
    unsigned char *head = calloc(gr->m + 1, 1);
    size_t nheads = 0;
    enum dft_err rc = DFT_OK;
    gr->par = calloc(gr->m + 1, sizeof *gr->par);
    gr->par_n = calloc(gr->m + 1, sizeof *gr->par_n);
    *concurrent = 0;
    if (ids == NULL || last == NULL || head == NULL || gr->par == NULL || gr->par_n == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < gr->m; j++) {
        const json_t *op = gop(gr, j);
        const json_t *parents = json_object_get(op, "parents");
        const char *author = op_str(op, "author");
        size_t cap = json_is_array(parents) ? json_array_size(parents) : 1;
        gr->par[j] = malloc((cap + 1) * sizeof **gr->par);
        if (gr->par[j] == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        size_t covered = 0;
        if (json_is_array(parents)) {
            size_t i;
            json_t *p;
            json_array_foreach(parents, i, p)
            {
                const json_t *k =
                    json_is_string(p) ? json_object_get(ids, json_string_value(p)) : NULL;
                if (k == NULL) {
                    continue; /* an op on another record, or not held */
                }
                size_t kk = (size_t)json_integer_value(k);
                int dup = 0;
                for (size_t q = 0; q < gr->par_n[j]; q++) {
                    dup |= gr->par[j][q] == kk;
                }
                if (!dup) {
                    gr->par[j][gr->par_n[j]++] = kk;
                }
            }
        } else if (author != NULL && json_object_get(last, author) != NULL) {
            gr->par[j][gr->par_n[j]++] = (size_t)json_integer_value(json_object_get(last, author));
        }
        for (size_t q = 0; q < gr->par_n[j]; q++) {
            if (head[gr->par[j][q]]) {
                head[gr->par[j][q]] = 0;
                covered++;
            }
        }
        if (covered < nheads) {
            *concurrent = 1;
        }
        nheads = nheads - covered + 1;
        head[j] = 1;
        const char *id = op_str(op, "id");
        if ((id != NULL && json_object_set_new(ids, id, json_integer((json_int_t)j)) != 0) ||
            (author != NULL &&
             json_object_set_new(last, author, json_integer((json_int_t)j)) != 0)) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    for (size_t j = 0; heads_out != NULL && j < gr->m; j++) {
        const char *id = op_str(gop(gr, j), "id");
        if (head[j] && id != NULL && json_array_append_new(heads_out, json_string(id)) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
out:
    json_decref(ids);
    json_decref(last);
    free(head);
    return rc;
}

static enum dft_err
group_ancestry(struct group *gr, struct dft_error *err)
{
    gr->words = (gr->m + 63) / 64;
    if (gr->m > 65536) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many concurrent operations on one record");
    }
    gr->anc = calloc(gr->m * gr->words + 1, sizeof *gr->anc);
    if (gr->anc == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < gr->m; j++) {
        uint64_t *row = gr->anc + j * gr->words;
        for (size_t q = 0; q < gr->par_n[j]; q++) {
            size_t p = gr->par[j][q];
            const uint64_t *prow = gr->anc + p * gr->words;
            for (size_t w = 0; w < gr->words; w++) {
                row[w] |= prow[w];
            }
            row[p / 64] |= (uint64_t)1 << (p % 64);
        }
    }
    return DFT_OK;
}

static json_t *
value_entry(const struct group *gr, size_t j, const json_t *value)
{
    const json_t *op = gop(gr, j);
    int64_t pos = gr->all[gr->g[j]].pos;
    json_t *e = json_pack("{sO?s:s?s:s?}", "value", value, "author", op_str(op, "author"), "op",
                          op_str(op, "id"));
    if (e != NULL) {
        json_object_set_new(e, "index", pos < MERGE_LOCAL ? json_integer(pos) : json_null());
    }
    return e;
}

static json_t *
conflict_new(const char *record, const char *field)
{
    unsigned char h[DFT_HASH_BYTES];
    char hex[2 * DFT_HASH_BYTES + 1];
    char id[24];
    size_t rl = strlen(record), fl = strlen(field);
    unsigned char *msg = malloc(rl + fl + 1);
    if (msg == NULL) {
        return NULL;
    }
    memcpy(msg, record, rl);
    msg[rl] = '\n';
    memcpy(msg + rl + 1, field, fl);
    crypto_sha256_once(h, msg, rl + fl + 1);
    free(msg);
    dft_hex_encode(hex, h, sizeof h);
    memcpy(id, "cfl_", 4);
    memcpy(id + 4, hex, 16);
    id[20] = '\0';
    return json_pack("{sssssss[]}", "id", id, "record", record, "field", field, "values");
}

/* Concurrent writes of each field of one record. */
static enum dft_err
field_conflicts(const struct group *gr, const char *record, json_t *conflicts,
                struct dft_error *err)
{
    json_t *writes = json_object(); /* field -> [local index...] */
    enum dft_err rc = DFT_OK;
    if (writes == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < gr->m; j++) {
        const json_t *op = gop(gr, j);
        const char *action = op_str(op, "action");
        const char *rec = op_str(op, "record");
        if (action == NULL || rec == NULL || strcmp(rec, record) != 0 ||
            (strcmp(action, "create") != 0 && strcmp(action, "update") != 0)) {
            continue;
        }
        const char *f;
        json_t *val;
        json_object_foreach(json_object_get(op, "fields"), f, val)
        {
            json_t *list = json_object_get(writes, f);
            if (list == NULL) {
                list = json_array();
                if (list == NULL || json_object_set_new(writes, f, list) != 0) {
                    rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                    goto out;
                }
            }
            json_array_append_new(list, json_integer((json_int_t)j));
        }
    }
    const char *f;
    json_t *list;
    json_object_foreach(writes, f, list)
    {
        size_t c = json_array_size(list);
        json_t *c_obj = NULL;
        size_t maximal = 0;
        for (size_t a = 0; a < c; a++) {
            size_t wa = (size_t)json_integer_value(json_array_get(list, a));
            int dominated = 0;
            for (size_t b = a + 1; b < c && !dominated; b++) {
                dominated = anc_has(gr, (size_t)json_integer_value(json_array_get(list, b)), wa);
            }
            maximal += !dominated;
        }
        if (maximal < 2) {
            continue;
        }
        c_obj = conflict_new(record, f);
        for (size_t a = 0; c_obj != NULL && a < c; a++) {
            size_t wa = (size_t)json_integer_value(json_array_get(list, a));
            int dominated = 0;
            for (size_t b = a + 1; b < c && !dominated; b++) {
                dominated = anc_has(gr, (size_t)json_integer_value(json_array_get(list, b)), wa);
            }
            if (!dominated) {
                json_array_append_new(
                    json_object_get(c_obj, "values"),
                    value_entry(gr, wa,
                                json_object_get(json_object_get(gop(gr, wa), "fields"), f)));
            }
        }
        if (c_obj == NULL || json_array_append_new(conflicts, c_obj) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
out:
    json_decref(writes);
    return rc;
}

/* Deletes concurrent with an edit: kept out of the view; unresolved ones are a conflict. */
static enum dft_err
delete_conflicts(const struct group *gr, const char *record, json_t *skip, json_t *conflicts,
                 struct dft_error *err)
{
    unsigned char *in = calloc(gr->m + 1, 1); /* 1: a delete, 2: an edit, in the conflict */
    unsigned char *conc = calloc(gr->m + 1, 1);
    int any = 0;
    enum dft_err rc = DFT_OK;
    if (in == NULL || conc == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t d = 0; d < gr->m; d++) {
        const json_t *op = gop(gr, d);
        const char *action = op_str(op, "action");
        const char *rec = op_str(op, "record");
        if (action == NULL || strcmp(action, "delete") != 0 || rec == NULL ||
            strcmp(rec, record) != 0) {
            continue;
        }
        memset(conc, 0, gr->m);
        int n = 0;
        for (size_t k = 0; k < gr->m; k++) {
            if (k != d && is_edit(op_str(gop(gr, k), "action")) && !anc_has(gr, k, d) &&
                !anc_has(gr, d, k)) {
                conc[k] = 1;
                n++;
            }
        }
        if (n == 0) {
            continue;
        }
        const char *id = op_str(op, "id");
        if (id != NULL && json_object_set_new(skip, id, json_true()) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        int resolved = 0;
        for (size_t x = 0; x < gr->m && !resolved; x++) {
            if (!anc_has(gr, x, d)) {
                continue;
            }
            int all = 1;
            for (size_t k = 0; k < gr->m && all; k++) {
                all = !conc[k] || anc_has(gr, x, k);
            }
            resolved = all;
        }
        if (!resolved) {
            any = 1;
            in[d] = 1;
            for (size_t k = 0; k < gr->m; k++) {
                if (conc[k] && in[k] == 0) {
                    in[k] = 2;
                }
            }
        }
    }
    if (any && conflicts != NULL) {
        json_t *c = conflict_new(record, "_deleted");
        for (size_t j = 0; c != NULL && j < gr->m; j++) {
            if (in[j] != 0) {
                json_array_append_new(json_object_get(c, "values"),
                                      value_entry(gr, j, in[j] == 1 ? json_true() : json_false()));
            }
        }
        if (c == NULL || json_array_append_new(conflicts, c) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
out:
    free(in);
    free(conc);
    return rc;
}

static int
cmp_conflict(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a;
    const json_t *y = *(const json_t *const *)b;
    int c = strcmp(op_str(x, "record"), op_str(y, "record"));
    return c != 0 ? c : strcmp(op_str(x, "field"), op_str(y, "field"));
}

static enum dft_err
sort_conflicts(json_t **conflicts, struct dft_error *err)
{
    size_t n = json_array_size(*conflicts);
    json_t **items = calloc(n + 1, sizeof *items);
    json_t *sorted = json_array();
    if (items == NULL || sorted == NULL) {
        free(items);
        json_decref(sorted);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_array_get(*conflicts, i);
    }
    qsort(items, n, sizeof *items, cmp_conflict);
    for (size_t i = 0; i < n; i++) {
        json_array_append(sorted, items[i]);
    }
    free(items);
    json_decref(*conflicts);
    *conflicts = sorted;
    return DFT_OK;
}

static enum dft_err
analyse_group(struct group *gr, const char *record, json_t *skip, json_t *conflicts,
              struct dft_error *err)
{
    int concurrent = 0;
    enum dft_err rc = group_parents(gr, &concurrent, NULL, err);
    if (rc != DFT_OK || !concurrent) {
        return rc;
    }
    if ((rc = group_ancestry(gr, err)) != DFT_OK) {
        return rc;
    }
    if (conflicts != NULL && (rc = field_conflicts(gr, record, conflicts, err)) != DFT_OK) {
        return rc;
    }
    return delete_conflicts(gr, record, skip, conflicts, err);
}

enum dft_err
merge_analyse(const struct merge_op *ops, size_t n, json_t **skip_out, json_t **conflicts_out,
              struct dft_error *err)
{
    json_t *groups = json_object(); /* record -> [global index...] */
    json_t *skip = json_object();
    json_t *conflicts = json_array();
    enum dft_err rc = DFT_OK;
    size_t *g = NULL;
    if (groups == NULL || skip == NULL || conflicts == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t[2];
        op_touched(ops[i].op, &t[0], &t[1]);
        for (int k = 0; k < 2; k++) {
            if (t[k] == NULL || (k == 1 && t[0] != NULL && strcmp(t[0], t[1]) == 0)) {
                continue;
            }
            json_t *list = json_object_get(groups, t[k]);
            if (list == NULL) {
                list = json_array();
                if (list == NULL || json_object_set_new(groups, t[k], list) != 0) {
                    rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                    goto out;
                }
            }
            if (json_array_append_new(list, json_integer((json_int_t)i)) != 0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
    }
    g = malloc((n + 1) * sizeof *g);
    if (g == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *record;
    json_t *list;
    json_object_foreach(groups, record, list)
    {
        if (json_array_size(list) < 2) {
            continue; /* one op: nothing can be concurrent */
        }
        struct group gr = {ops, g, json_array_size(list), NULL, NULL, NULL, 0};
        for (size_t j = 0; j < gr.m; j++) {
            g[j] = (size_t)json_integer_value(json_array_get(list, j));
        }
        rc = analyse_group(&gr, record, skip, conflicts_out != NULL ? conflicts : NULL, err);
        group_free(&gr);
        if (rc != DFT_OK) {
            goto out;
        }
    }
    if (conflicts_out != NULL && (rc = sort_conflicts(&conflicts, err)) != DFT_OK) {
        goto out;
    }
    if (skip_out != NULL) {
        *skip_out = skip;
        skip = NULL;
    }
    if (conflicts_out != NULL) {
        *conflicts_out = conflicts;
        conflicts = NULL;
    }
out:
    free(g);
    json_decref(groups);
    json_decref(skip);
    json_decref(conflicts);
    return rc;
}

/* ---- loading a record's operations from the view ---- */

int
sync_table_exists(sqlite3 *db, const char *schema, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s.sqlite_master WHERE type='table' AND name=?1",
             schema);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/* Rows (pos, op text) of sql bound to record, appended to ops and pos. */
static enum dft_err
load_rows(sqlite3 *db, const char *sql, const char *record, json_t *ops, json_t *pos,
          struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src == SQLITE_OK) {
        if (record != NULL) {
            sqlite3_bind_text(st, 1, record, -1, SQLITE_STATIC);
        }
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            json_error_t jerr;
            json_t *op = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
            if (!json_is_object(op)) {
                json_decref(op);
                sqlite3_finalize(st);
                return dft_fail(err, DFT_ERR_INTEGRITY, "an operation in the view is malformed");
            }
            json_array_append_new(ops, op);
            json_array_append_new(pos, json_integer(sqlite3_column_int64(st, 0)));
        }
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        return store_error(db, src, "cannot read the history", err);
    }
    return DFT_OK;
}

/* Merge two lists sorted by position into one (stable: a before b on ties). */
static enum dft_err
merge_lists(json_t *ao, json_t *ap, json_t *bo, json_t *bp, json_t **ops, json_t **pos,
            struct dft_error *err)
{
    json_t *o = json_array(), *p = json_array();
    size_t i = 0, j = 0, na = json_array_size(ao), nb = json_array_size(bo);
    if (o == NULL || p == NULL) {
        json_decref(o);
        json_decref(p);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    while (i < na || j < nb) {
        int take_a = j >= nb || (i < na && json_integer_value(json_array_get(ap, i)) <=
                                               json_integer_value(json_array_get(bp, j)));
        if (take_a) {
            json_array_append(o, json_array_get(ao, i));
            json_array_append(p, json_array_get(ap, i));
            i++;
        } else {
            json_array_append(o, json_array_get(bo, j));
            json_array_append(p, json_array_get(bp, j));
            j++;
        }
    }
    *ops = o;
    *pos = p;
    return DFT_OK;
}

/* All ops (record NULL) or one record's, from main.history and main.sync_history. */
static enum dft_err
load_ops(sqlite3 *db, const char *record, json_t **ops, json_t **pos, struct dft_error *err)
{
    json_t *lo = json_array(), *lp = json_array(), *fo = json_array(), *fp = json_array();
    enum dft_err rc = DFT_OK;
    int acked = sync_table_exists(db, "main", "sync_acked");
    char sql[400];
    if (lo == NULL || lp == NULL || fo == NULL || fp == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(sql, sizeof sql,
             "SELECT %s, h.op FROM main.history h %s %s GROUP BY h.idx, h.seq ORDER BY h.idx, "
             "h.seq",
             acked ? "coalesce(a.sidx, h.idx + 1152921504606846976)"
                   : "h.idx + 1152921504606846976",
             acked ? "LEFT JOIN main.sync_acked a ON a.local_idx = h.idx" : "",
             record != NULL ? "WHERE h.record = ?1" : "");
    if ((rc = load_rows(db, sql, record, lo, lp, err)) != DFT_OK) {
        goto out;
    }
    if (sync_table_exists(db, "main", "sync_history")) {
        snprintf(sql, sizeof sql,
                 "SELECT sidx, op FROM main.sync_history %s GROUP BY sidx, seq ORDER BY sidx, seq",
                 record != NULL ? "WHERE record = ?1" : "");
        if ((rc = load_rows(db, sql, record, fo, fp, err)) != DFT_OK) {
            goto out;
        }
    }
    rc = merge_lists(fo, fp, lo, lp, ops, pos, err);
out:
    json_decref(lo);
    json_decref(lp);
    json_decref(fo);
    json_decref(fp);
    return rc;
}

_Static_assert(MERGE_LOCAL == 1152921504606846976LL, "MERGE_LOCAL in the SQL above");

enum dft_err
merge_load(sqlite3 *db, const char *record, json_t **ops, json_t **pos, struct dft_error *err)
{
    return load_ops(db, record, ops, pos, err);
}

static struct merge_op *
merge_ops_of(const json_t *ops, const json_t *pos)
{
    size_t n = json_array_size(ops);
    struct merge_op *m = calloc(n + 1, sizeof *m);
    for (size_t i = 0; m != NULL && i < n; i++) {
        m[i].op = json_array_get(ops, i);
        m[i].pos = json_integer_value(json_array_get(pos, i));
    }
    return m;
}

/* The heads of record: ops touching it that no other op touching it descends from. */
static enum dft_err
record_heads(sqlite3 *db, const char *record, json_t *heads, struct dft_error *err)
{
    json_t *ops = NULL, *pos = NULL;
    enum dft_err rc = load_ops(db, record, &ops, &pos, err);
    if (rc != DFT_OK) {
        return rc;
    }
    size_t n = json_array_size(ops);
    struct merge_op *m = merge_ops_of(ops, pos);
    size_t *g = malloc((n + 1) * sizeof *g);
    if (m == NULL || g == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else {
        for (size_t i = 0; i < n; i++) {
            g[i] = i;
        }
        struct group gr = {m, g, n, NULL, NULL, NULL, 0};
        int concurrent = 0;
        rc = group_parents(&gr, &concurrent, heads, err);
        group_free(&gr);
    }
    free(m);
    free(g);
    json_decref(ops);
    json_decref(pos);
    return rc;
}

enum dft_err
merge_record_heads(sqlite3 *db, const char *record, json_t *heads, struct dft_error *err)
{
    return record_heads(db, record, heads, err);
}

/* The engine's last verified checkpoint as "seen", or NULL. */
static json_t *
seen_of(struct dft_vault *v)
{
    json_t *state = NULL;
    if (!sync_table_exists(v->db, "main", "sync_state") ||
        dft_vault_sync_state_get(v, &state, NULL) != DFT_OK) {
        return NULL;
    }
    const json_t *cp = json_object_get(state, "checkpoint");
    json_t *seen = NULL;
    if (json_is_integer(json_object_get(cp, "size")) &&
        json_is_string(json_object_get(cp, "root"))) {
        seen = json_pack("{sOsO}", "size", json_object_get(cp, "size"), "root",
                         json_object_get(cp, "root"));
    }
    json_decref(state);
    return seen;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* parents = sorted union of the heads of the touched records and any parents given. */
static enum dft_err
set_parents(json_t *op, json_t *const heads[2], struct dft_error *err)
{
    json_t *given = json_object_get(op, "parents");
    size_t cap = json_array_size(given) + json_array_size(heads[0]) + json_array_size(heads[1]);
    const char **ids = calloc(cap + 1, sizeof *ids);
    size_t n = 0;
    if (ids == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    const json_t *lists[3] = {given, heads[0], heads[1]};
    for (int l = 0; l < 3; l++) {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)(uintptr_t)lists[l], i, x)
        {
            if (json_is_string(x)) {
                ids[n++] = json_string_value(x);
            }
        }
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    json_t *out = json_array();
    for (size_t i = 0; out != NULL && i < n; i++) {
        if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0) {
            continue;
        }
        if (json_array_append_new(out, json_string(ids[i])) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    free(ids);
    if (out == NULL || json_object_set_new(op, "parents", out) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

/*
 * A create of a record no earlier operation of the batch touched gets parents [] (and seen).
 * Its record's head in this batch (the create) is noted in fresh and put into the map only when
 * a later operation touches the record: the map holds what the loop below would have put.
 */
static enum dft_err
fresh_create(json_t *op, json_t *seen, struct vault_idset *fresh, const char **fresh_op,
             const char *record, const char *id, struct dft_error *err)
{
    size_t pos = 0;
    if (vault_idset_add(fresh, record, &pos) < 0 ||
        json_object_set_new(op, "parents", json_array()) != 0 ||
        (seen != NULL && json_object_set(op, "seen", seen) != 0)) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    fresh_op[pos] = id;
    return DFT_OK;
}

/* The head a fresh create left for record, into the map before another operation reads it. */
static enum dft_err
fresh_to_map(json_t *map, const struct vault_idset *fresh, const char *const *fresh_op,
             const char *record, struct dft_error *err)
{
    size_t pos = vault_idset_find(fresh, record);
    if (pos == 0 || json_object_get(map, record) != NULL) {
        return DFT_OK;
    }
    const char *id = fresh_op[pos - 1];
    json_t *head = json_array();
    if (head != NULL && id != NULL && json_array_append_new(head, json_string(id)) != 0) {
        json_decref(head);
        head = NULL;
    }
    if (head == NULL || json_object_set_new(map, record, head) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

enum dft_err
sync_op_parents(struct dft_vault *v, json_t *ops, struct dft_error *err)
{
    json_t *map = json_object(); /* record -> heads within this batch */
    json_t *seen = seen_of(v);
    enum dft_err rc = DFT_OK;
    struct vault_idset fresh = VAULT_IDSET_INIT; /* records of fresh creates (fresh_create) */
    const char **fresh_op = calloc(json_array_size(ops) + 1, sizeof *fresh_op);
    size_t i;
    json_t *op;
    if (map == NULL) {
        free(fresh_op);
        json_decref(seen);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    json_array_foreach(ops, i, op)
    {
        const char *t[2];
        json_t *heads[2] = {NULL, NULL};
        const char *action = op_str(op, "action");
        const char *id = op_str(op, "id");
        op_touched(op, &t[0], &t[1]);
        if (fresh_op != NULL && t[0] != NULL && t[1] == NULL && action != NULL &&
            strcmp(action, "create") == 0 && json_object_get(op, "parents") == NULL &&
            json_object_get(map, t[0]) == NULL && vault_idset_find(&fresh, t[0]) == 0) {
            /* the common case of a batch, the same result as below without the heads' work */
            if ((rc = fresh_create(op, seen, &fresh, fresh_op, t[0], id, err)) != DFT_OK) {
                goto out;
            }
            continue;
        }
        for (int k = 0; k < 2 && fresh_op != NULL; k++) {
            if (t[k] != NULL && (rc = fresh_to_map(map, &fresh, fresh_op, t[k], err)) != DFT_OK) {
                goto out;
            }
        }
        for (int k = 0; k < 2; k++) {
            if (t[k] == NULL || (k == 1 && t[0] != NULL && strcmp(t[0], t[1]) == 0)) {
                continue;
            }
            heads[k] = json_object_get(map, t[k]);
            if (heads[k] != NULL) {
                continue;
            }
            json_t *h = json_array();
            if (h == NULL || json_object_set_new(map, t[k], h) != 0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                goto out;
            }
            /* a create names a fresh random id: nothing to have seen */
            if (!(k == 0 && action != NULL && strcmp(action, "create") == 0) &&
                (rc = record_heads(v->db, t[k], h, err)) != DFT_OK) {
                goto out;
            }
            heads[k] = h;
        }
        if ((rc = set_parents(op, heads, err)) != DFT_OK) {
            goto out;
        }
        if (seen != NULL && json_object_set(op, "seen", seen) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (int k = 0; k < 2 && id != NULL; k++) {
            if (t[k] != NULL && json_object_set_new(map, t[k], json_pack("[s]", id)) != 0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
    }
out:
    vault_idset_free(&fresh);
    free(fresh_op);
    json_decref(map);
    json_decref(seen);
    return rc;
}

/* ---- public: conflicts and resolve ---- */

enum dft_err
dft_vault_conflicts(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    if (!sync_table_exists(v->db, "main", "sync_history")) {
        *out = json_array(); /* never shared: no other author, no conflict */
        return *out != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    json_t *ops = NULL, *pos = NULL;
    enum dft_err rc = load_ops(v->db, NULL, &ops, &pos, err);
    if (rc != DFT_OK) {
        return rc;
    }
    struct merge_op *m = merge_ops_of(ops, pos);
    if (m == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else {
        rc = merge_analyse(m, json_array_size(ops), NULL, out, err);
    }
    free(m);
    json_decref(ops);
    json_decref(pos);
    return rc;
}

enum dft_err
dft_vault_resolve(struct dft_vault *v, const char *record, const char *field, const json_t *value,
                  json_t **out, struct dft_error *err)
{
    json_t *all = NULL, *ops = NULL;
    const json_t *found = NULL;
    enum dft_err rc;
    if (record == NULL || field == NULL || value == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "resolve needs a record, a field and a value");
    }
    if (strcmp(field, "_deleted") != 0 &&
        ((rc = vault_check_field_name(field, err)) != DFT_OK ||
         (rc = vault_check_value(field, value, 0, err)) != DFT_OK)) {
        return rc;
    }
    if (strcmp(field, "_deleted") == 0 && !json_is_boolean(value)) {
        return dft_fail(err, DFT_ERR_INPUT, "'_deleted' is resolved with true or false");
    }
    if ((rc = dft_vault_conflicts(v, &all, err)) != DFT_OK) {
        return rc;
    }
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        if (strcmp(op_str(c, "record"), record) == 0 && strcmp(op_str(c, "field"), field) == 0) {
            found = c;
        }
    }
    if (found == NULL) {
        json_decref(all);
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no conflict on field '%.64s' of '%.48s'", field,
                        record);
    }
    json_t *parents = json_array();
    json_array_foreach(json_object_get(found, "values"), i, c)
    {
        json_array_append(parents, json_object_get(c, "op"));
    }
    if (strcmp(field, "_deleted") == 0 && json_is_true(value)) {
        ops = json_pack("[{sssssO}]", "record", record, "action", "delete", "parents", parents);
    } else if (strcmp(field, "_deleted") == 0) {
        ops = json_pack("[{sssss{}sO}]", "record", record, "action", "update", "fields", "parents",
                        parents);
    } else {
        ops = json_pack("[{sssss{sO}sO}]", "record", record, "action", "update", "fields", field,
                        value, "parents", parents);
    }
    json_decref(parents);
    json_decref(all);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    if (rc == DFT_OK && out != NULL) {
        *out = json_pack("{sssssO}", "record", record, "field", field, "op",
                         json_object_get(json_array_get(ops, 0), "id"));
    }
    json_decref(ops);
    return rc;
}
