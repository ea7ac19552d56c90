/*
 * sync_view.c - the merged view of a shared vault: every operation applied in server log order,
 * then the local operations the server has not acknowledged, with the merge rule of conflict.c.
 *
 * Sources: the local log (its history rows: the log tables of the view stay per local envelope)
 * and the pulled entries of main.sync_pulled, each opened and checked again. The records, links
 * and evidence tables are built from scratch into a schema (an in-memory one at pull, "rebuild"
 * in verify); at pull the rows that differ are written into main with the search index. Never
 * reads a clock; the same set of entries gives the same tables on every member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "search/search.h"
#include "store/store.h"
#include "vault/envelope.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

int
sync_view_merged(struct dft_vault *v)
{
    if (!sync_table_exists(v->db, "main", "sync_pulled")) {
        return 0;
    }
    sqlite3_stmt *st = NULL;
    int any = 0;
    if (sqlite3_prepare_v2(v->db, "SELECT 1 FROM main.sync_pulled LIMIT 1", -1, &st, NULL) ==
        SQLITE_OK) {
        any = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return any;
}

/* One envelope's operations at its merged position. */
struct item {
    int64_t pos;
    int64_t sidx;  /* server index of a pulled entry from another device, else -1 */
    int64_t local; /* local log index, else -1 */
    json_t *ops;   /* owned */
};

static int
cmp_item(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->pos != y->pos) {
        return x->pos < y->pos ? -1 : 1;
    }
    /* equal only if the server acknowledged two entries at one index: pulled first */
    if ((x->sidx >= 0) != (y->sidx >= 0)) {
        return x->sidx >= 0 ? -1 : 1;
    }
    return x->local < y->local ? -1 : x->local > y->local;
}

struct items {
    struct item *v;
    size_t n, cap;
};

static enum dft_err
items_add(struct items *it, struct item x, struct dft_error *err)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 256;
        struct item *nv = realloc(it->v, cap * sizeof *nv);
        if (nv == NULL) {
            json_decref(x.ops);
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        it->v = nv;
        it->cap = cap;
    }
    it->v[it->n++] = x;
    return DFT_OK;
}

static void
items_free(struct items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        json_decref(it->v[i].ops);
    }
    free(it->v);
    memset(it, 0, sizeof *it);
}

/* Local operations from log_schema's history, one item per local envelope. */
static enum dft_err
load_local(sqlite3 *db, const char *log_schema, struct items *it, struct dft_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT idx, op FROM %s.history GROUP BY idx, seq ORDER BY idx, seq",
             log_schema);
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    enum dft_err rc = DFT_OK;
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(st, 0);
        json_error_t jerr;
        json_t *op = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
        if (!json_is_object(op)) {
            json_decref(op);
            sqlite3_finalize(st);
            return dft_fail(err, DFT_ERR_INTEGRITY, "an operation in the history is malformed");
        }
        if (it->n == 0 || it->v[it->n - 1].local != idx) {
            struct item x = {MERGE_LOCAL + idx, -1, idx, json_array()};
            if (x.ops == NULL || (rc = items_add(it, x, err)) != DFT_OK) {
                json_decref(op);
                sqlite3_finalize(st);
                return rc != DFT_OK ? rc : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            }
        }
        json_array_append_new(it->v[it->n - 1].ops, op);
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        return store_error(db, src, "cannot read the history", err);
    }
    return DFT_OK;
}

static struct item *
find_local(struct items *it, size_t n_local, int64_t idx)
{
    size_t lo = 0, hi = n_local;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (it->v[mid].local < idx) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n_local && it->v[lo].local == idx ? &it->v[lo] : NULL;
}

/* SHA-256 of local envelope idx's signed head into h; 0 when there is none. */
static int
local_head(sqlite3 *db, int64_t idx, unsigned char h[DFT_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "SELECT substr(envelope, 1, 137) FROM main.envelopes WHERE idx=?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, idx);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == DFT_ENV_HEAD_BYTES) {
            crypto_sha256_once(h, sqlite3_column_blob(st, 0), DFT_ENV_HEAD_BYTES);
            ok = 1;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static enum dft_err
add_ids(json_t *known, const json_t *ops, struct dft_error *err)
{
    size_t i;
    json_t *op;
    json_array_foreach((json_t *)(uintptr_t)ops, i, op)
    {
        const char *id = json_string_value(json_object_get(op, "id"));
        if (id != NULL && json_object_set_new(known, id, json_true()) != 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return DFT_OK;
}

/* Every pulled entry, opened and checked; items for those of other devices. */
/* Operations merged before, per server index, from main.sync_history (see reopen_from). */
static enum dft_err
load_merged(sqlite3 *db, struct items *hist, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db,
                                 "SELECT sidx, op FROM main.sync_history GROUP BY sidx, seq"
                                 " ORDER BY sidx, seq",
                                 -1, &st, NULL);
    enum dft_err rc = DFT_OK;
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t sidx = sqlite3_column_int64(st, 0);
        json_error_t jerr;
        json_t *op = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
        if (!json_is_object(op)) {
            json_decref(op);
            sqlite3_finalize(st);
            return dft_fail(err, DFT_ERR_INTEGRITY, "an operation in the history is malformed");
        }
        if (hist->n == 0 || hist->v[hist->n - 1].sidx != sidx) {
            struct item x = {sidx, sidx, -1, json_array()};
            if (x.ops == NULL || (rc = items_add(hist, x, err)) != DFT_OK) {
                json_decref(op);
                sqlite3_finalize(st);
                return rc != DFT_OK ? rc : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            }
        }
        json_array_append_new(hist->v[hist->n - 1].ops, op);
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        return store_error(db, src, "cannot read the merged history", err);
    }
    return DFT_OK;
}

static json_t *
merged_ops(const struct items *hist, int64_t sidx)
{
    size_t lo = 0, hi = hist->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (hist->v[mid].sidx < sidx) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < hist->n && hist->v[lo].sidx == sidx ? hist->v[lo].ops : NULL;
}

static enum dft_err
load_pulled(struct dft_vault *v, struct items *it, size_t n_local,
            const struct dft_sync_keyring *extra, int64_t reopen_from, json_t *held_ids,
            struct dft_error *err)
{
    struct items hist = {NULL, 0, 0};
    struct dft_sync_keyring stored = {0, NULL};
    struct dft_keys *scratch = keys_new();
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    if (scratch == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if ((rc = dft_vault_sync_keys_get(v, &stored, err)) != DFT_OK ||
        (reopen_from > 0 && (rc = load_merged(v->db, &hist, err)) != DFT_OK)) {
        goto out;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT sidx, head, held, local_idx, dup, body"
                                 " FROM main.sync_pulled ORDER BY sidx",
                                 -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t sidx = sqlite3_column_int64(st, 0);
        int held = sqlite3_column_int(st, 2);
        int own = sqlite3_column_type(st, 3) != SQLITE_NULL;
        int64_t lidx = sqlite3_column_int64(st, 3);
        int dup = sqlite3_column_int(st, 4);
        json_t *ops = NULL;
        unsigned char author[32], head[DFT_HASH_BYTES], lh[DFT_HASH_BYTES];
        json_t *before = sidx < reopen_from && !held && !dup ? merged_ops(&hist, sidx) : NULL;
        if (sidx < reopen_from && !held && (dup || own || before != NULL)) {
            /* checked when it was pulled; verify opens it again */
            if (own) {
                struct item *l = find_local(it, n_local, lidx);
                if (l == NULL || !local_head(v->db, lidx, lh) ||
                    sqlite3_column_bytes(st, 1) != DFT_HASH_BYTES ||
                    sodium_memcmp(lh, sqlite3_column_blob(st, 1), DFT_HASH_BYTES) != 0) {
                    rc = dft_fail(err, DFT_ERR_INTEGRITY,
                                  "pulled entry %lld is not the local envelope it stands for",
                                  (long long)sidx);
                    goto out;
                }
                if (l->pos >= MERGE_LOCAL) {
                    l->pos = sidx;
                }
            } else if (!dup) {
                struct item x = {sidx, sidx, -1, json_incref(before)};
                if ((rc = items_add(it, x, err)) != DFT_OK) {
                    goto out;
                }
            }
            src = SQLITE_OK;
            continue;
        }
        rc = sync_entry_open(scratch, sqlite3_column_blob(st, 5),
                             (size_t)sqlite3_column_bytes(st, 5), extra, &stored, &ops, author,
                             head, err);
        if (rc == DFT_OK &&
            (sqlite3_column_bytes(st, 1) != DFT_HASH_BYTES ||
             sodium_memcmp(head, sqlite3_column_blob(st, 1), DFT_HASH_BYTES) != 0)) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "pulled entry %lld does not match its head",
                          (long long)sidx);
        }
        if (rc != DFT_OK) {
            json_decref(ops);
            goto out;
        }
        if (held) {
            rc = add_ids(held_ids, ops, err);
            json_decref(ops);
        } else if (dup) {
            json_decref(ops);
        } else if (own) {
            struct item *l = find_local(it, n_local, lidx);
            json_decref(ops);
            if (l == NULL || !local_head(v->db, lidx, lh) ||
                sodium_memcmp(lh, head, DFT_HASH_BYTES) != 0 ||
                sodium_memcmp(author, v->keys->sign_pk, 32) != 0) {
                rc = dft_fail(err, DFT_ERR_INTEGRITY,
                              "pulled entry %lld is not the local envelope it stands for",
                              (long long)sidx);
            } else if (l->pos >= MERGE_LOCAL) {
                l->pos = sidx; /* its first place in the server's log */
            }
        } else {
            struct item x = {sidx, sidx, -1, ops};
            rc = items_add(it, x, err);
        }
        if (rc != DFT_OK) {
            goto out;
        }
        src = SQLITE_OK;
    }
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot read the pulled entries", err);
    }
out:
    sqlite3_finalize(st);
    dft_sync_keyring_free(&stored);
    keys_free(scratch);
    items_free(&hist);
    return rc;
}

/* Local envelopes acknowledged but not yet pulled back sit at their acknowledged index. */
static enum dft_err
place_acked(sqlite3 *db, struct items *it, size_t n_local, struct dft_error *err)
{
    if (!sync_table_exists(db, "main", "sync_acked")) {
        return DFT_OK;
    }
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, "SELECT local_idx, sidx FROM main.sync_acked", -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct item *l = find_local(it, n_local, sqlite3_column_int64(st, 0));
        if (l != NULL && l->pos >= MERGE_LOCAL) {
            l->pos = sqlite3_column_int64(st, 1);
        }
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        return store_error(db, src, "cannot read the acknowledgements", err);
    }
    return DFT_OK;
}

/* Parents must be logged before the operations naming them; op ids are unique. */
static enum dft_err
check_order(const struct merge_op *ops, size_t n, json_t *known, struct dft_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_object_get(ops[i].op, "id"));
        if (id == NULL || json_object_get(known, id) != NULL) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "operation '%.48s' appears twice",
                            id != NULL ? id : "?");
        }
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(ops[i].op, "parents"), k, p)
        {
            if (json_object_get(known, json_string_value(p)) == NULL) {
                return dft_fail(err, DFT_ERR_INTEGRITY,
                                "operation '%.48s' names a parent not logged before it", id);
            }
        }
        if (json_object_set_new(known, id, json_true()) != 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return DFT_OK;
}

static enum dft_err
add_sync_history(sqlite3 *db, sqlite3_stmt *ins, int64_t sidx, const json_t *ops,
                 struct dft_error *err)
{
    struct dft_buf b;
    dft_buf_init(&b, DFT_ENV_MAX, 0);
    enum dft_err rc = DFT_OK;
    size_t i;
    json_t *op;
    json_array_foreach((json_t *)(uintptr_t)ops, i, op)
    {
        const char *t[2];
        op_touched(op, &t[0], &t[1]);
        dft_buf_reset(&b);
        if ((rc = json_canonical(op, &b, err)) != DFT_OK) {
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (t[k] == NULL || (k == 1 && t[0] != NULL && strcmp(t[0], t[1]) == 0)) {
                continue;
            }
            sqlite3_bind_text(ins, 1, t[k], -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, sidx);
            sqlite3_bind_int64(ins, 3, (sqlite3_int64)i);
            sqlite3_bind_text(ins, 4, (const char *)b.data, (int)b.len, SQLITE_TRANSIENT);
            int src = sqlite3_step(ins);
            sqlite3_reset(ins);
            if (src != SQLITE_DONE) {
                rc = store_error(db, src, "cannot store the merged history", err);
                break;
            }
        }
        if (rc != DFT_OK) {
            break;
        }
    }
    dft_buf_release(&b);
    return rc;
}

enum dft_err
sync_history_add(sqlite3 *db, const char *schema, int64_t sidx, const json_t *ops,
                 struct dft_error *err)
{
    char sql[200];
    sqlite3_stmt *ins = NULL;
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.sync_history(record, sidx, seq, op) VALUES(?1, ?2, ?3, ?4)", schema);
    int src = sqlite3_prepare_v2(db, sql, -1, &ins, NULL);
    if (src != SQLITE_OK) {
        return store_error(db, src, "cannot store the merged history", err);
    }
    enum dft_err rc = add_sync_history(db, ins, sidx, ops, err);
    sqlite3_finalize(ins);
    return rc;
}

enum dft_err
sync_view_build(struct dft_vault *v, const char *schema, const char *log_schema,
                const struct dft_sync_keyring *extra, int64_t reopen_from, size_t *applied,
                struct dft_error *err)
{
    struct items it = {NULL, 0, 0};
    struct merge_op *mops = NULL;
    json_t *known = json_object();
    json_t *skip = NULL;
    struct dft_view vw;
    int view_ready = 0;
    sqlite3_stmt *ins = NULL;
    size_t nops = 0;
    enum dft_err rc = DFT_OK;
    if (known == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if ((rc = load_local(v->db, log_schema, &it, err)) != DFT_OK) {
        goto out;
    }
    size_t n_local = it.n;
    if ((rc = load_pulled(v, &it, n_local, extra, reopen_from, known, err)) != DFT_OK ||
        (rc = place_acked(v->db, &it, n_local, err)) != DFT_OK) {
        goto out;
    }
    qsort(it.v, it.n, sizeof *it.v, cmp_item);
    for (size_t i = 0; i < it.n; i++) {
        nops += json_array_size(it.v[i].ops);
    }
    mops = calloc(nops + 1, sizeof *mops);
    if (mops == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    nops = 0;
    for (size_t i = 0; i < it.n; i++) {
        size_t k;
        json_t *op;
        json_array_foreach(it.v[i].ops, k, op)
        {
            mops[nops].op = op;
            mops[nops].pos = it.v[i].pos;
            nops++;
        }
    }
    if ((rc = check_order(mops, nops, known, err)) != DFT_OK ||
        (rc = merge_analyse(mops, nops, &skip, NULL, err)) != DFT_OK) {
        goto out;
    }
    if ((rc = view_init(&vw, v->db, schema, 0, err)) != DFT_OK) {
        goto out;
    }
    view_ready = 1;
    vw.sync_mode = VIEW_NO_LOG;
    vw.skip = skip;
    char sql[200];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s.sync_history(record, sidx, seq, op) VALUES(?1, ?2, ?3, ?4)", schema);
    int src = sqlite3_prepare_v2(v->db, sql, -1, &ins, NULL);
    if (src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot store the merged history", err);
        goto out;
    }
    for (size_t i = 0; i < it.n; i++) {
        if ((rc = view_apply(&vw, it.v[i].pos, it.v[i].ops, err)) != DFT_OK) {
            goto out;
        }
        if (it.v[i].sidx >= 0 &&
            (rc = add_sync_history(v->db, ins, it.v[i].sidx, it.v[i].ops, err)) != DFT_OK) {
            goto out;
        }
    }
    if (applied != NULL) {
        *applied = nops;
    }
out:
    sqlite3_finalize(ins);
    if (view_ready) {
        view_release(&vw);
    }
    items_free(&it);
    free(mops);
    json_decref(known);
    json_decref(skip);
    return rc;
}

/* ---- install the merged tables into main (pull) ---- */

/* Names of schema.table's columns (a JSON object used as a set). */
static json_t *
column_set(sqlite3 *db, const char *schema, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA %s.table_info(%s)", schema, table);
    sqlite3_stmt *st = NULL;
    json_t *set = json_array();
    if (set != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_array_append_new(set, json_string((const char *)sqlite3_column_text(st, 1)));
        }
    }
    sqlite3_finalize(st);
    return set;
}

/*
 * The columns of main.table that the merged schema has too, in main's order, as SQL ("a", "b"):
 * other branches may add columns to the view tables; whole rows are copied whatever they are.
 */
static enum dft_err
shared_columns(sqlite3 *db, const char *table, struct dft_buf *out, struct dft_error *err)
{
    json_t *a = column_set(db, "main", table), *b = column_set(db, "sync_merge", table);
    enum dft_err rc = DFT_OK;
    size_t i, k, n = 0;
    json_t *x, *y;
    dft_buf_reset(out);
    json_array_foreach(a, i, x)
    {
        int both = 0;
        json_array_foreach(b, k, y)
        {
            both |= json_equal(x, y);
        }
        const char *name = json_string_value(x);
        if (!both || name == NULL || strchr(name, '"') != NULL) {
            continue;
        }
        if ((rc = dft_buf_addf(out, "%s\"%s\"", n++ > 0 ? ", " : "", name)) != DFT_OK) {
            break;
        }
    }
    json_decref(a);
    json_decref(b);
    if (rc == DFT_OK && n == 0) {
        rc = DFT_ERR_INTERNAL;
    }
    return rc == DFT_OK ? DFT_OK : dft_fail(err, rc, "cannot read the view's columns");
}

static enum dft_err
ids_of(sqlite3 *db, const char *sql, json_t *ids, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(ids, json_string((const char *)sqlite3_column_text(st, 0)));
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        return store_error(db, src, "cannot merge the view", err);
    }
    return DFT_OK;
}

/*
 * Make main.table equal to sync_merge.table by its key column "id", writing only rows that
 * differ; *gone and *changed (may be NULL) get the ids removed and written.
 */
static enum dft_err
copy_table(sqlite3 *db, const char *table, json_t *gone, json_t *changed, struct dft_error *err)
{
    struct dft_buf cols, sql;
    dft_buf_init(&cols, 8192, 0);
    dft_buf_init(&sql, 32768, 0);
    json_t *ids = json_array(), *del = json_array();
    sqlite3_stmt *put = NULL, *rm = NULL;
    enum dft_err rc = shared_columns(db, table, &cols, err);
    if (rc == DFT_OK && (ids == NULL || del == NULL)) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    const char *c = (const char *)cols.data;
    if (rc == DFT_OK && ((rc = dft_buf_addf(&sql,
                                            "SELECT id FROM main.%s WHERE id NOT IN (SELECT id FROM"
                                            " sync_merge.%s)",
                                            table, table)) != DFT_OK ||
                         (rc = ids_of(db, (const char *)sql.data, del, err)) != DFT_OK)) {
        goto out;
    }
    dft_buf_reset(&sql);
    if (rc == DFT_OK &&
        ((rc = dft_buf_addf(&sql,
                            "SELECT id FROM (SELECT %s FROM sync_merge.%s EXCEPT SELECT %s FROM"
                            " main.%s)",
                            c, table, c, table)) != DFT_OK ||
         (rc = ids_of(db, (const char *)sql.data, ids, err)) != DFT_OK)) {
        goto out;
    }
    if (rc != DFT_OK) {
        goto out;
    }
    dft_buf_reset(&sql);
    int src = dft_buf_addf(&sql,
                           "INSERT OR REPLACE INTO main.%s(%s) SELECT %s FROM sync_merge.%s"
                           " WHERE id = ?1",
                           table, c, c, table) == DFT_OK
                  ? sqlite3_prepare_v2(db, (const char *)sql.data, -1, &put, NULL)
                  : SQLITE_NOMEM;
    dft_buf_reset(&sql);
    if (src == SQLITE_OK) {
        src = dft_buf_addf(&sql, "DELETE FROM main.%s WHERE id = ?1", table) == DFT_OK
                  ? sqlite3_prepare_v2(db, (const char *)sql.data, -1, &rm, NULL)
                  : SQLITE_NOMEM;
    }
    size_t i;
    json_t *id;
    json_array_foreach(del, i, id)
    {
        if (src == SQLITE_OK) {
            sqlite3_bind_text(rm, 1, json_string_value(id), -1, SQLITE_STATIC);
            src = sqlite3_step(rm) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(rm);
        }
    }
    json_array_foreach(ids, i, id)
    {
        if (src == SQLITE_OK) {
            sqlite3_bind_text(put, 1, json_string_value(id), -1, SQLITE_STATIC);
            src = sqlite3_step(put) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(put);
        }
    }
    if (src != SQLITE_OK) {
        rc = store_error(db, src, "cannot merge the view", err);
        goto out;
    }
    if (gone != NULL) {
        json_array_extend(gone, del);
    }
    if (changed != NULL) {
        json_array_extend(changed, ids);
    }
out:
    sqlite3_finalize(put);
    sqlite3_finalize(rm);
    json_decref(ids);
    json_decref(del);
    dft_buf_release(&cols);
    dft_buf_release(&sql);
    return rc;
}

enum dft_err
sync_view_install(struct dft_vault *v, struct dft_error *err)
{
    struct dft_search_writer *w = NULL;
    sqlite3_stmt *st = NULL;
    json_t *gone = json_array(), *changed = json_array();
    enum dft_err rc = DFT_OK;
    if (gone == NULL || changed == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = copy_table(v->db, "records", gone, changed, err)) != DFT_OK ||
        (rc = copy_table(v->db, "links", NULL, NULL, err)) != DFT_OK ||
        (rc = copy_table(v->db, "evidence", NULL, NULL, err)) != DFT_OK ||
        (rc = search_writer_open(v->db, &w, err)) != DFT_OK) {
        goto out;
    }
    /* the search index follows the records that changed: live ones put, deleted ones out */
    size_t i;
    json_t *id;
    json_array_foreach(gone, i, id)
    {
        if ((rc = search_writer_remove(w, json_string_value(id), err)) != DFT_OK) {
            goto out;
        }
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT type, title, fields, deleted FROM main.records"
                                 " WHERE id = ?1",
                                 -1, &st, NULL);
    json_array_foreach(changed, i, id)
    {
        const char *rid = json_string_value(id);
        if (src != SQLITE_OK) {
            break;
        }
        sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
            src = SQLITE_ERROR;
            break;
        }
        if (sqlite3_column_int(st, 3) != 0) {
            rc = search_writer_remove(w, rid, err);
        } else {
            json_error_t jerr;
            json_t *fields = json_loads((const char *)sqlite3_column_text(st, 2), 0, &jerr);
            rc = search_writer_put(w, rid, (const char *)sqlite3_column_text(st, 0),
                                   (const char *)sqlite3_column_text(st, 1), fields, err);
            json_decref(fields);
        }
        sqlite3_reset(st);
        if (rc != DFT_OK) {
            goto out;
        }
    }
    if (src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot merge the view", err);
        goto out;
    }
    static const char *const history[] = {
        /* only the rows that differ are written: pages of unchanged rows stay as they are */
        "DELETE FROM main.sync_history WHERE (record, sidx, seq) NOT IN"
        " (SELECT record, sidx, seq FROM sync_merge.sync_history)",
        "INSERT OR REPLACE INTO main.sync_history SELECT * FROM sync_merge.sync_history"
        " EXCEPT SELECT * FROM main.sync_history",
    };
    for (size_t k = 0; k < sizeof history / sizeof history[0]; k++) {
        if ((rc = store_exec(v->db, history[k], err)) != DFT_OK) {
            goto out;
        }
    }
out:
    sqlite3_finalize(st);
    search_writer_close(w);
    json_decref(gone);
    json_decref(changed);
    return rc;
}

/* ---- verify ---- */

enum dft_err
sync_verify_view(struct dft_vault *v, struct dft_error *err)
{
    enum dft_err rc = store_exec(v->db,
                                 "CREATE TABLE IF NOT EXISTS rebuild.sync_history(record TEXT"
                                 " NOT NULL, sidx INTEGER NOT NULL, seq INTEGER NOT NULL,"
                                 " op TEXT NOT NULL, PRIMARY KEY(record, sidx, seq)) WITHOUT ROWID",
                                 err);
    if (rc != DFT_OK ||
        (rc = sync_view_build(v, "rebuild", "rebuild", NULL, 0, NULL, err)) != DFT_OK) {
        return rc;
    }
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT (SELECT count(*) FROM (SELECT * FROM main.sync_history"
                                 " EXCEPT SELECT * FROM rebuild.sync_history)) + (SELECT count(*)"
                                 " FROM (SELECT * FROM rebuild.sync_history EXCEPT SELECT * FROM"
                                 " main.sync_history))",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    if (src != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_error(v->db, src, "cannot compare the merged history", err);
    }
    sqlite3_int64 diff = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (diff != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the merged history differs from the pulled entries in %lld rows",
                        (long long)diff);
    }
    return DFT_OK;
}
