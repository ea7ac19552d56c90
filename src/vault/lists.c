/*
 * lists.c - restore of deleted records, lists with filters and sorting, and history a person
 * can read (who, when, old -> new per field).
 *
 * Reads the view tables; the only write is dft_vault_restore, through vault_commit_ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "defter/model.h"
#include "store/store.h"
#include "vault/schema.h"
#include "vault/vault_internal.h"

enum dft_err
dft_vault_restore(struct dft_vault *v, const char *id, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int deleted = -1;
    if (sqlite3_prepare_v2(v->db, "SELECT deleted FROM records WHERE id=?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            deleted = sqlite3_column_int(st, 0);
        }
    }
    sqlite3_finalize(st);
    if (deleted < 0) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.48s'", id);
    }
    if (deleted == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "%s is not deleted", id);
    }
    json_t *ops = json_pack("[{ss ss}]", "record", id, "action", "restore");
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    return rc;
}

/* ---- lists ---- */

/* Lowest and highest YYYYMMDD a (partial) date covers; 0 if it is not a date. */
static int
date_range(const char *s, long *lo, long *hi)
{
    long key = 0;
    if (s == NULL || dft_date_check("date", s, &key, NULL, NULL) != DFT_OK) {
        return 0;
    }
    *lo = key;
    *hi = key;
    if (key % 100 == 0) {
        *hi += 31;
    }
    if (key % 10000 == 0) {
        *hi += 1200;
    }
    return 1;
}

static const json_t *
value_of(const json_t *rec, const char *field)
{
    const json_t *v = json_object_get(json_object_get(rec, "fields"), field);
    if (v == NULL &&
        (strcmp(field, "title") == 0 || strcmp(field, "id") == 0 || strcmp(field, "type") == 0 ||
         strcmp(field, "created") == 0 || strcmp(field, "updated") == 0)) {
        v = json_object_get(rec, field);
    }
    return v;
}

static int
value_matches(const json_t *v, const char *want)
{
    if (json_is_string(v)) {
        return strcasecmp(json_string_value(v), want) == 0;
    }
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return strcmp(buf, want) == 0;
    }
    if (json_is_boolean(v)) {
        return strcmp(json_is_true(v) ? "true" : "false", want) == 0;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)(uintptr_t)v, i, x)
        {
            if (value_matches(x, want)) {
                return 1;
            }
        }
    }
    return 0;
}

struct sort_ctx {
    const char *field;
    int desc;
};

static int
compare_records(const void *a, const void *b, void *arg)
{
    const struct sort_ctx *c = arg;
    const json_t *ra = *(const json_t *const *)a;
    const json_t *rb = *(const json_t *const *)b;
    const json_t *va = value_of(ra, c->field);
    const json_t *vb = value_of(rb, c->field);
    if (json_is_array(va)) {
        va = json_array_get(va, 0);
    }
    if (json_is_array(vb)) {
        vb = json_array_get(vb, 0);
    }
    int r = 0;
    /* records without the field go last either way */
    if (va == NULL || vb == NULL) {
        r = (va == NULL) - (vb == NULL);
        return r;
    }
    long la, ha, lb, hb;
    const char *sa = json_string_value(va), *sb = json_string_value(vb);
    if (date_range(sa, &la, &ha) && date_range(sb, &lb, &hb)) {
        r = la < lb ? -1 : (la > lb ? 1 : (ha < hb ? -1 : (ha > hb ? 1 : strcmp(sa, sb))));
    } else if (json_is_integer(va) && json_is_integer(vb)) {
        json_int_t x = json_integer_value(va), y = json_integer_value(vb);
        r = x < y ? -1 : (x > y ? 1 : 0);
    } else if (sa != NULL && sb != NULL) {
        r = strcasecmp(sa, sb);
    }
    if (r == 0) {
        r = strcmp(json_string_value(json_object_get(ra, "id")),
                   json_string_value(json_object_get(rb, "id")));
    }
    return c->desc ? -r : r;
}

enum dft_err
dft_vault_list_query(struct dft_vault *v, const char *type, const json_t *query, json_t **out,
                     struct dft_error *err)
{
    if (type != NULL && !dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    const json_t *where = json_object_get(query, "where");
    const char *sort = json_string_value(json_object_get(query, "sort"));
    const char *from = json_string_value(json_object_get(query, "from"));
    const char *to = json_string_value(json_object_get(query, "to"));
    int deleted = json_is_true(json_object_get(query, "deleted"));
    enum dft_err rc;
    long from_lo = 0, from_hi = 0, to_lo = 0, to_hi = 99999999;
    if ((from != NULL && (rc = dft_date_check("--from", from, NULL, NULL, err)) != DFT_OK) ||
        (to != NULL && (rc = dft_date_check("--to", to, NULL, NULL, err)) != DFT_OK)) {
        return rc;
    }
    if (from != NULL) {
        date_range(from, &from_lo, &from_hi);
    }
    if (to != NULL) {
        date_range(to, &to_lo, &to_hi);
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)where, key, val)
    {
        if ((rc = schema_field_known(v, type, key, err)) != DFT_OK) {
            return rc;
        }
        if (!json_is_string(val)) {
            return dft_fail(err, DFT_ERR_INPUT, "--where %s needs a text value", key);
        }
    }
    struct sort_ctx sc = {NULL, 0};
    if (sort != NULL) {
        sc.desc = sort[0] == '-';
        sc.field = sort + (sc.desc ? 1 : 0);
        if ((rc = schema_field_known(v, type, sc.field, err)) != DFT_OK) {
            return rc;
        }
    }
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT id, type, title, fields, created, updated FROM records"
                                 " WHERE deleted=?2 AND (?1 IS NULL OR type=?1)"
                                 " ORDER BY type, title COLLATE NOCASE, id",
                                 -1, &st, NULL);
    if (src != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_error(v->db, src, "cannot read the vault", err);
    }
    if (type != NULL) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 2, deleted ? 1 : 0);
    json_t *arr = json_array();
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        json_error_t jerr;
        json_t *fields = json_loads((const char *)sqlite3_column_text(st, 3), 0, &jerr);
        json_t *r = json_pack("{ss ss ss so ss ss}", "id", sqlite3_column_text(st, 0), "type",
                              sqlite3_column_text(st, 1), "title", sqlite3_column_text(st, 2),
                              "fields", fields != NULL ? fields : json_object(), "created",
                              sqlite3_column_text(st, 4), "updated", sqlite3_column_text(st, 5));
        if (r == NULL) {
            continue;
        }
        int keep = 1;
        json_object_foreach((json_t *)(uintptr_t)where, key, val)
        {
            keep = keep && value_matches(value_of(r, key), json_string_value(val));
        }
        if (keep && (from != NULL || to != NULL)) {
            long lo, hi;
            const char *d =
                json_string_value(json_object_get(json_object_get(r, "fields"), "date"));
            keep = date_range(d, &lo, &hi) && hi >= from_lo && lo <= to_hi;
        }
        if (deleted) {
            json_object_set_new(r, "deleted", json_true());
        }
        if (keep) {
            json_array_append_new(arr, r);
        } else {
            json_decref(r);
        }
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        json_decref(arr);
        return store_error(v->db, src, "cannot read the vault", err);
    }
    if (sc.field != NULL && json_array_size(arr) > 1) {
        size_t n = json_array_size(arr);
        json_t **items = malloc(n * sizeof *items);
        if (items == NULL) {
            json_decref(arr);
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            items[i] = json_incref(json_array_get(arr, i));
        }
        qsort_r(items, n, sizeof *items, compare_records, &sc);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(arr, items[i]);
        }
        free(items);
    }
    *out = arr;
    return DFT_OK;
}

/* ---- history ---- */

static json_t *
change(const char *field, const json_t *old, const json_t *new_value)
{
    return json_pack("{ss sO sO}", "field", field, "old", old != NULL ? old : json_null(), "new",
                     new_value != NULL ? new_value : json_null());
}

enum dft_err
dft_vault_history(struct dft_vault *v, const char *id, json_t **out, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(
        v->db, "SELECT idx, op FROM history WHERE record=? ORDER BY idx, seq", -1, &st, NULL);
    if (src != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_error(v->db, src, "cannot read the vault", err);
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    json_t *state = json_object(); /* the record's fields as the history goes */
    json_t *arr = json_array();
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        json_error_t jerr;
        json_t *op = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
        if (op == NULL) {
            continue;
        }
        const char *action = json_string_value(json_object_get(op, "action"));
        const char *author = json_string_value(json_object_get(op, "author"));
        const json_t *f = json_object_get(op, "fields");
        json_t *changes = json_array();
        json_t *e =
            json_pack("{sI s:s? s:s? s:s? so}", "index", (json_int_t)sqlite3_column_int64(st, 0),
                      "ts", json_string_value(json_object_get(op, "ts")), "author", author,
                      "action", action, "changes", changes);
        if (e == NULL || action == NULL) {
            json_decref(e);
            json_decref(op);
            continue;
        }
        json_object_set_new(e, "by_vault_owner",
                            json_boolean(author != NULL && strcmp(author, v->author) == 0));
        const char *key;
        json_t *val;
        if (strcmp(action, "create") == 0) {
            json_object_foreach((json_t *)(uintptr_t)f, key, val)
            {
                json_array_append_new(changes, change(key, NULL, val));
                json_object_set(state, key, val);
            }
        } else if (strcmp(action, "update") == 0) {
            json_object_foreach((json_t *)(uintptr_t)f, key, val)
            {
                json_array_append_new(changes, change(key, json_object_get(state, key),
                                                      json_is_null(val) ? NULL : val));
                if (json_is_null(val)) {
                    json_object_del(state, key);
                } else {
                    json_object_set(state, key, val);
                }
            }
        } else if (strcmp(action, "link") == 0 || strcmp(action, "unlink") == 0 ||
                   strcmp(action, "evidence") == 0 || strcmp(action, "merge") == 0) {
            const char *rec = json_string_value(json_object_get(op, "record"));
            const char *to = json_string_value(json_object_get(op, "to"));
            const char *other = rec != NULL && strcmp(rec, id) == 0 ? to : rec;
            if (other != NULL) {
                json_object_set_new(e, "other", json_string(other));
            }
            if (json_object_get(f, "role") != NULL) {
                json_object_set(e, "role", json_object_get(f, "role"));
            }
            if (json_object_get(f, "name") != NULL) {
                json_object_set(e, "name", json_object_get(f, "name"));
            }
        }
        json_array_append_new(arr, e);
        json_decref(op);
    }
    sqlite3_finalize(st);
    json_decref(state);
    if (src != SQLITE_DONE) {
        json_decref(arr);
        return store_error(v->db, src, "cannot read the vault", err);
    }
    *out = arr;
    return DFT_OK;
}
