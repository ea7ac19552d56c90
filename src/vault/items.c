/*
 * items.c - checks of records to add (field names, values, types, roles, local keys and links
 * of the `add --from-json` formats), dft_vault_add, and the default type of a batch
 * (`defter add TYPE --from-json FILE`). Bad input changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "evidence/evidence.h"
#include "search/search.h"
#include "store/store.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/fsutil.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

enum dft_err
vault_check_value(const char *field, const json_t *val, int depth, struct dft_error *err)
{
    if (depth > 8) {
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' is nested too deeply", field);
    }
    switch (json_typeof(val)) {
    case JSON_REAL:
        return dft_fail(err, DFT_ERR_INPUT,
                        "field '%s': only strings, integers, true/false, lists and objects "
                        "are supported (not fractional numbers)",
                        field);
    case JSON_STRING:
        if (json_string_length(val) > DFT_FIELD_VALUE_MAX) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "field '%s' is too long", field);
        }
        if (!dft_utf8_valid(json_string_value(val), json_string_length(val))) {
            return dft_fail(err, DFT_ERR_INPUT, "field '%s' is not valid UTF-8 text", field);
        }
        return DFT_OK;
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)(uintptr_t)val, i, x)
        {
            enum dft_err rc = vault_check_value(field, x, depth + 1, err);
            if (rc != DFT_OK) {
                return rc;
            }
        }
        return DFT_OK;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)val, k, x)
        {
            enum dft_err rc = vault_check_value(field, x, depth + 1, err);
            if (rc != DFT_OK) {
                return rc;
            }
        }
        return DFT_OK;
    }
    default:
        return DFT_OK;
    }
}

enum dft_err
vault_check_field_name(const char *name, struct dft_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64) {
        return dft_fail(err, DFT_ERR_INPUT, "field names must have 1 to 64 characters");
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c >= 'A' && c <= 'Z'))) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "field name '%.64s' may only hold letters a-z, digits, '_' and '-'",
                            name);
        }
    }
    return DFT_OK;
}

/* Check one record to add and build its create operation (fields without "type"/"key"). */
static enum dft_err
build_create(const json_t *item, size_t index, const unsigned char *rnd, json_t **op_out,
             char *id_out, struct dft_error *err)
{
    if (!json_is_object(item)) {
        return dft_fail(err, DFT_ERR_INPUT, "record %zu is not a JSON object", index);
    }
    const char *type = json_string_value(json_object_get(item, "type"));
    if (type == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "record %zu has no \"type\"", index);
    }
    if (!dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    json_t *fields = json_object();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)item, key, val)
    {
        if (strcmp(key, "type") == 0 || strcmp(key, "key") == 0 || strcmp(key, "id") == 0) {
            continue;
        }
        enum dft_err rc = vault_check_field_name(key, err);
        if (rc == DFT_OK && json_is_null(val)) {
            rc = dft_fail(err, DFT_ERR_INPUT, "field '%s' of record %zu is null", key, index);
        }
        if (rc == DFT_OK) {
            rc = vault_check_value(key, val, 0, err);
        }
        if (rc != DFT_OK) {
            json_decref(fields);
            return rc;
        }
        if (fields == NULL || json_object_set(fields, key, val) != 0) {
            json_decref(fields);
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    if (rnd != NULL) {
        vault_id_from_random(id_out, vault_type_prefix(type), rnd);
    } else {
        dft_vault_new_id(id_out, vault_type_prefix(type));
    }
    /* the members json_pack("{sssssssO}") would set, in its order, without parsing a format */
    json_t *op = json_object();
    if (op == NULL || json_object_set_new(op, "record", json_string(id_out)) != 0 ||
        json_object_set_new(op, "action", json_string("create")) != 0 ||
        json_object_set_new(op, "type", json_string(type)) != 0 || fields == NULL ||
        json_object_set(op, "fields", fields) != 0) {
        json_decref(op);
        op = NULL;
    }
    *op_out = op;
    json_decref(fields);
    if (*op_out == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

enum dft_err
vault_check_role(const char *role, struct dft_error *err)
{
    size_t n = strlen(role);
    if (n == 0 || n > 64) {
        return dft_fail(err, DFT_ERR_INPUT, "a role must have 1 to 64 characters");
    }
    for (size_t i = 0; i < n; i++) {
        char c = role[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "role '%.64s' may only hold lower-case letters, digits, '_' and '-'",
                            role);
        }
    }
    return DFT_OK;
}

/* Document form: {"records":[{"key":..}], "links":[[from_key, to_key, role]]}. */
static enum dft_err
build_links(const json_t *links, const json_t *keymap, json_t *ops, struct dft_error *err)
{
    size_t i;
    json_t *l;
    json_array_foreach((json_t *)(uintptr_t)links, i, l)
    {
        const char *a = json_string_value(json_array_get(l, 0));
        const char *b = json_string_value(json_array_get(l, 1));
        const char *role = json_string_value(json_array_get(l, 2));
        if (!json_is_array(l) || json_array_size(l) != 3 || a == NULL || b == NULL ||
            role == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "link %zu must be [from_key, to_key, role]", i);
        }
        const char *ida = json_string_value(json_object_get(keymap, a));
        const char *idb = json_string_value(json_object_get(keymap, b));
        if (ida == NULL || idb == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "link %zu names an unknown key '%.64s'", i,
                            ida == NULL ? a : b);
        }
        if (strcmp(ida, idb) == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "link %zu links a record to itself", i);
        }
        enum dft_err rc = vault_check_role(role, err);
        if (rc != DFT_OK) {
            return rc;
        }
        char lid[DFT_ID_MAX];
        dft_vault_new_id(lid, "lnk");
        if (json_array_append_new(ops,
                                  json_pack("{sssssss{ssss}}", "record", ida, "to", idb, "action",
                                            "link", "fields", "link", lid, "role", role)) != 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return DFT_OK;
}

/*
 * The create operations of a large batch are built on two threads, each half in its own range
 * of one array of operations and ids (the random id parts were drawn and sorted before, so each
 * record's id does not depend on the thread). The records are then taken in order: the first
 * record that failed is the one reported, with its own message, as when built one by one.
 */
#define BUILD_THREADED 2048 /* fewer records are built on the calling thread alone */

struct build_part {
    const json_t *records;
    const unsigned char *rnd; /* NULL: one draw per id */
    size_t from, to;
    json_t **op;            /* op[i] for i in [from, to); NULL where not built */
    char (*id)[DFT_ID_MAX]; /* id[i] likewise */
    size_t failed;          /* the first record of the range that failed, or to */
    enum dft_err rc;
    struct dft_error err;
};

struct built {
    json_t **op;
    char (*id)[DFT_ID_MAX];
    size_t n;
    struct build_part part[2];
};

static void
build_range(struct build_part *p)
{
    for (size_t i = p->from; i < p->to; i++) {
        const unsigned char *r = p->rnd != NULL ? p->rnd + i * VAULT_ID_RANDOM_BYTES : NULL;
        p->rc = build_create(json_array_get(p->records, i), i, r, &p->op[i], p->id[i], &p->err);
        if (p->rc != DFT_OK) {
            p->op[i] = NULL;
            p->failed = i;
            return;
        }
    }
}

static void *
build_thread(void *arg)
{
    build_range(arg);
    return NULL;
}

static enum dft_err
build_creates(const json_t *records, size_t n, const unsigned char *rnd, struct built *b,
              struct dft_error *err)
{
    b->n = n;
    b->op = calloc(n, sizeof *b->op);
    b->id = malloc(n * sizeof *b->id);
    if (b->op == NULL || b->id == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    size_t half = n >= BUILD_THREADED ? n / 2 : n;
    for (int k = 0; k < 2; k++) {
        struct build_part *p = &b->part[k];
        memset(p, 0, sizeof *p);
        p->records = records;
        p->rnd = rnd;
        p->from = k == 0 ? 0 : half;
        p->to = k == 0 ? half : n;
        p->op = b->op;
        p->id = b->id;
        p->failed = p->to;
    }
    pthread_t th;
    int threaded = half < n && pthread_create(&th, NULL, build_thread, &b->part[1]) == 0;
    build_range(&b->part[0]);
    if (threaded) {
        pthread_join(th, NULL);
    } else if (half < n && b->part[0].failed == half) {
        build_range(&b->part[1]);
    }
    return DFT_OK;
}

/* Record i was not built: the error of its range, whose first failure it is. */
static enum dft_err
built_error(const struct built *b, size_t i, struct dft_error *err)
{
    const struct build_part *p = &b->part[i < b->part[0].to ? 0 : 1];
    if (p->failed != i || p->rc == DFT_OK) {
        return dft_fail(err, DFT_ERR_INTERNAL, "record %zu was not checked", i);
    }
    return dft_fail(err, p->rc, "%s", p->err.msg);
}

static void
built_free(struct built *b)
{
    for (size_t i = 0; b->op != NULL && i < b->n; i++) {
        json_decref(b->op[i]);
    }
    free(b->op);
    free(b->id);
    b->op = NULL;
    b->id = NULL;
}

enum dft_err
dft_vault_check_items(const json_t *items, json_t **ops_out, json_t **ids_out,
                      struct dft_error *err)
{
    const json_t *records = items;
    const json_t *links = NULL;
    if (json_is_object(items) && json_is_array(json_object_get(items, "records"))) {
        records = json_object_get(items, "records");
        links = json_object_get(items, "links");
        if (links != NULL && !json_is_array(links)) {
            return dft_fail(err, DFT_ERR_INPUT, "\"links\" must be a list");
        }
    }
    if (!json_is_array(records)) {
        return dft_fail(err, DFT_ERR_INPUT, "expected a JSON array of records");
    }
    size_t n = json_array_size(records);
    if (n == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "no records to add");
    }
    if (n + json_array_size(links) > DFT_BATCH_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many records in one batch (max %d)",
                        DFT_BATCH_MAX);
    }
    json_t *ops = json_array();
    json_t *ids = json_array();
    json_t *keymap = json_object();
    enum dft_err rc = DFT_OK;
    /* one draw for the batch, in key order (vault.c); without memory, one draw per id */
    unsigned char *rnd = vault_ids_random_sorted(n);
    struct built b;
    memset(&b, 0, sizeof b);
    if (ops == NULL || ids == NULL || keymap == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = build_creates(records, n, rnd, &b, err)) != DFT_OK) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(records, i);
        if (b.op[i] == NULL) {
            rc = built_error(&b, i, err); /* the first record that failed, in order */
            goto out;
        }
        json_t *op = b.op[i];
        b.op[i] = NULL;
        const char *id = b.id[i];
        if (json_array_append_new(ops, op) != 0 ||
            json_array_append_new(ids, json_string(id)) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        const json_t *key_j = json_object_get(item, "key");
        if (key_j == NULL) {
            continue;
        }
        const char *key = json_string_value(key_j);
        if (key == NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "\"key\" of record %zu must be a string", i);
            goto out;
        }
        if (json_object_get(keymap, key) != NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "key '%.64s' of record %zu is used twice", key, i);
            goto out;
        }
        if (json_object_set_new(keymap, key, json_string(id)) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (links != NULL && (rc = build_links(links, keymap, ops, err)) != DFT_OK) {
        goto out;
    }
out:
    built_free(&b);
    free(rnd);
    json_decref(keymap);
    if (rc == DFT_OK && ops_out != NULL) {
        *ops_out = ops;
        ops = NULL;
    }
    if (rc == DFT_OK && ids_out != NULL) {
        *ids_out = ids;
        ids = NULL;
    }
    json_decref(ops);
    json_decref(ids);
    return rc;
}

enum dft_err
dft_vault_add(struct dft_vault *v, const json_t *items, json_t **ids_out, struct dft_error *err)
{
    json_t *ops = NULL;
    json_t *ids = NULL;
    enum dft_err rc = dft_vault_check_items(items, &ops, &ids, err);
    if (rc == DFT_OK) {
        rc = vault_commit_ops_owned(v, ops, err); /* releases ops */
    }
    if (rc == DFT_OK) {
        *ids_out = ids;
    } else {
        json_decref(ids);
    }
    return rc;
}

/* Kind of a live id: 'r' record, 'l' link, 'e' evidence, 0 unknown or deleted. */

enum dft_err
dft_vault_items_type(json_t *items, const char *type, struct dft_error *err)
{
    if (!dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    json_t *records = items;
    if (json_is_object(items) && json_is_array(json_object_get(items, "records"))) {
        records = json_object_get(items, "records");
    }
    if (!json_is_array(records)) {
        return dft_fail(err, DFT_ERR_INPUT, "expected a JSON array of records");
    }
    /* Check every element first, so that a refusal leaves items as they were. */
    size_t i;
    json_t *item;
    json_array_foreach(records, i, item)
    {
        if (!json_is_object(item)) {
            return dft_fail(err, DFT_ERR_INPUT, "record %zu is not a JSON object", i);
        }
        const json_t *t = json_object_get(item, "type");
        if (t == NULL) {
            continue;
        }
        if (!json_is_string(t) || strcmp(json_string_value(t), type) != 0) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "record %zu has type '%.40s', not '%s' as the command says", i,
                            json_is_string(t) ? json_string_value(t) : "(not a string)", type);
        }
    }
    json_array_foreach(records, i, item)
    {
        if (json_object_get(item, "type") == NULL &&
            json_object_set_new(item, "type", json_string(type)) != 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return DFT_OK;
}
