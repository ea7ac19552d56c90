/*
 * privileged.c - privileged notes sealed to their author's X25519 key (privileged.h).
 *
 * A privileged note's operation carries, instead of its fields, {"privileged": true, "sealed":
 * {"v":1, "to": box key, "box": sealed box, "digests": [...]}}. The box (libsodium
 * crypto_box_seal to "to") holds canonical JSON {"fields", "record", "salt_key"}; "digests" are
 * the selective-disclosure digests of those fields under the box's own salt key, sorted, and the
 * operation hash counts them as items (envelope.c), so the author can later disclose a field
 * provably. Never writes a field value anywhere but into the box; never logs one.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/box.h"
#include "crypto/keys.h"
#include "vault/envelope.h"
#include "vault/privileged.h"
#include "vault/vault_internal.h"

#define SEALED_MAX_DIGESTS 256 /* as sealed.c */
#define ITEM_NAME_MAX      80  /* "fields/" + a field name of at most 64 characters */

static int
flag_true(const json_t *v)
{
    const char *s = json_string_value(v);
    return json_is_true(v) || (s != NULL && strcmp(s, "true") == 0);
}

static int
is_note_type(const char *type)
{
    return type != NULL && strcmp(type, "note") == 0;
}

static int
b64_exact(unsigned char *out, size_t want, const json_t *j)
{
    const char *s = json_string_value(j);
    size_t n = 0;
    return s != NULL && dft_b64_decode(out, want, &n, s, strlen(s)) == DFT_OK && n == want;
}

static int
cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, DFT_HASH_BYTES);
}

/* The sorted digests of fields under salt_key, as base64 strings (new array) in *out. */
static enum dft_err
field_digests(const json_t *fields, const unsigned char salt_key[DFT_KEY_BYTES], json_t **out,
              struct dft_error *err)
{
    size_t m = json_object_size(fields);
    if (m > SEALED_MAX_DIGESTS) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "a privileged note has too many fields");
    }
    unsigned char *h = malloc((m + 1) * DFT_HASH_BYTES);
    if (h == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    unsigned char salt[DFT_SALT_BYTES];
    enum dft_err rc = DFT_OK;
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)fields, k, val)
    {
        char name[ITEM_NAME_MAX];
        size_t kl = strlen(k);
        if (kl + 8 > sizeof name) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
            break;
        }
        memcpy(name, "fields/", 7);
        memcpy(name + 7, k, kl + 1);
        sd_item_salt(salt, salt_key, name);
        if ((rc = sd_item_digest(h + i * DFT_HASH_BYTES, salt, name, val, err)) != DFT_OK) {
            break;
        }
        i++;
    }
    sodium_memzero(salt, sizeof salt);
    json_t *arr = rc == DFT_OK ? json_array() : NULL;
    if (rc == DFT_OK && arr == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (rc == DFT_OK) {
        qsort(h, i, DFT_HASH_BYTES, cmp_digest);
        for (size_t j = 0; j < i; j++) {
            char b64[dft_b64_len(DFT_HASH_BYTES)];
            dft_b64_encode(b64, h + j * DFT_HASH_BYTES, DFT_HASH_BYTES);
            json_array_append_new(arr, json_string(b64));
        }
        *out = arr;
    }
    free(h);
    return rc;
}

/* Replace op's fields by the sealed form: keep (privileged: true) when keep_flag. */
static enum dft_err
seal_op(const struct dft_keys *k, json_t *op, int keep_flag, struct dft_error *err)
{
    const char *record = json_string_value(json_object_get(op, "record"));
    json_t *fields = json_deep_copy(json_object_get(op, "fields"));
    unsigned char salt_key[DFT_KEY_BYTES];
    char salt_b64[dft_b64_len(DFT_KEY_BYTES)];
    struct dft_buf plain;
    dft_buf_init(&plain, DFT_ENV_MAX, 1);
    unsigned char *box = NULL;
    char *box_b64 = NULL;
    json_t *inner = NULL, *digests = NULL, *sealed = NULL;
    enum dft_err rc = DFT_OK;
    if (record == NULL || fields == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    json_object_del(fields, "privileged");
    crypto_random_key(salt_key);
    dft_b64_encode(salt_b64, salt_key, sizeof salt_key);
    inner = json_pack("{sOssss}", "fields", fields, "record", record, "salt_key", salt_b64);
    if (inner == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = json_canonical(inner, &plain, err)) != DFT_OK ||
        (rc = field_digests(fields, salt_key, &digests, err)) != DFT_OK) {
        goto out;
    }
    size_t box_len = plain.len + crypto_box_seal_overhead();
    box = malloc(box_len);
    box_b64 = malloc(dft_b64_len(box_len));
    if (box == NULL || box_b64 == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = crypto_box_seal_to(box, plain.data, plain.len, k->box_pk, err)) != DFT_OK) {
        goto out;
    }
    dft_b64_encode(box_b64, box, box_len);
    char to_b64[dft_b64_len(DFT_BOX_PK_BYTES)];
    dft_b64_encode(to_b64, k->box_pk, DFT_BOX_PK_BYTES);
    sealed = json_pack("{sisssssO}", "v", PRIVILEGED_SEALED_VERSION, "to", to_b64, "box", box_b64,
                       "digests", digests);
    json_t *nf = sealed == NULL ? NULL
                 : keep_flag    ? json_pack("{sbsO}", "privileged", 1, "sealed", sealed)
                                : json_pack("{sO}", "sealed", sealed);
    if (nf == NULL || json_object_set_new(op, "fields", nf) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
out:
    sodium_memzero(salt_key, sizeof salt_key);
    sodium_memzero(salt_b64, sizeof salt_b64);
    dft_buf_release(&plain);
    free(box);
    free(box_b64);
    json_decref(sealed);
    json_decref(digests);
    /* the copies of the clear values: jansson frees them; the op itself now holds none */
    json_decref(inner);
    json_decref(fields);
    return rc;
}

/* Type and fields of a live record in the view (0 when there is none). */
static int
current_record(struct dft_vault *v, const char *id, char *type, size_t type_max, json_t **fields)
{
    sqlite3_stmt *st = NULL;
    *fields = NULL;
    if (id == NULL || sqlite3_prepare_v2(vault_db(v), "SELECT type, fields FROM records WHERE id=?",
                                         -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(type, type_max, "%s", (const char *)sqlite3_column_text(st, 0));
        *fields = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
    }
    sqlite3_finalize(st);
    return found;
}

static int
sealed_to_me(const struct dft_keys *k, const json_t *sealed)
{
    unsigned char to[DFT_BOX_PK_BYTES];
    return b64_exact(to, sizeof to, json_object_get(sealed, "to")) &&
           sodium_memcmp(to, k->box_pk, sizeof to) == 0;
}

/* An update of a record already in the view: refuse or seal it. */
static enum dft_err
seal_update(struct dft_vault *v, json_t *op, struct dft_error *err)
{
    const char *id = json_string_value(json_object_get(op, "record"));
    const json_t *changes = json_object_get(op, "fields");
    char type[32] = "";
    json_t *cur = NULL;
    enum dft_err rc = DFT_OK;
    if (!current_record(v, id, type, sizeof type, &cur) || !is_note_type(type)) {
        goto out;
    }
    const json_t *flag = json_object_get(changes, "privileged");
    const json_t *sealed = privileged_sealed(cur);
    if (sealed == NULL) {
        if (flag != NULL && flag_true(flag) && !flag_true(json_object_get(cur, "privileged"))) {
            rc = dft_fail(err, DFT_ERR_INPUT,
                          "note %s was not added as privileged and its text is already in the "
                          "history: add a new note with `defter add note --privileged`",
                          id);
        }
        goto out;
    }
    if (flag != NULL) {
        rc = dft_fail(err, DFT_ERR_INPUT, "note %s is privileged: it stays privileged", id);
        goto out;
    }
    if (!sealed_to_me(vault_keys(v), sealed)) {
        rc = dft_fail(err, DFT_ERR_INPUT,
                      "privileged note %s is sealed to its author's key: only its author can "
                      "change it",
                      id);
        goto out;
    }
    rc = seal_op(vault_keys(v), op, 0, err);
out:
    json_decref(cur);
    return rc;
}

enum dft_err
privileged_seal_ops(struct dft_vault *v, json_t *ops, struct dft_error *err)
{
    /* check every operation before sealing any, so that a refusal changes nothing */
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        const char *action = json_string_value(json_object_get(op, "action"));
        const json_t *fields = json_object_get(op, "fields");
        if (action == NULL || !json_is_object(fields)) {
            continue;
        }
        if (privileged_sealed(fields) != NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "a record cannot set the field 'sealed' itself");
        }
    }
    json_array_foreach(ops, i, op)
    {
        const char *action = json_string_value(json_object_get(op, "action"));
        const json_t *fields = json_object_get(op, "fields");
        enum dft_err rc = DFT_OK;
        if (action == NULL || !json_is_object(fields)) {
            continue;
        }
        if (strcmp(action, "create") == 0) {
            if (is_note_type(json_string_value(json_object_get(op, "type"))) &&
                flag_true(json_object_get(fields, "privileged"))) {
                rc = seal_op(vault_keys(v), op, 1, err);
            }
        } else if (strcmp(action, "update") == 0) {
            rc = seal_update(v, op, err);
        }
        if (rc != DFT_OK) {
            return rc;
        }
    }
    return DFT_OK;
}

/* Whether two sorted arrays of base64 digests hold the same strings in the same order. */
static int
same_digests(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b)) {
        return 0;
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *x = json_string_value(json_array_get(a, i));
        const char *y = json_string_value(json_array_get(b, i));
        if (x == NULL || y == NULL || strcmp(x, y) != 0) {
            return 0;
        }
    }
    return 1;
}

enum dft_err
privileged_open_op(const struct dft_keys *k, const json_t *op, json_t **fields_out,
                   unsigned char salt_key[DFT_KEY_BYTES], struct dft_error *err)
{
    *fields_out = NULL;
    const json_t *sealed = privileged_sealed(json_object_get(op, "fields"));
    if (sealed == NULL || !sealed_to_me(k, sealed)) {
        return DFT_OK;
    }
    const char *id = json_string_value(json_object_get(op, "record"));
    const char *b64 = json_string_value(json_object_get(sealed, "box"));
    size_t blen = b64 != NULL ? strlen(b64) : 0;
    size_t max = blen / 4 * 3 + 3, n = 0;
    unsigned char *box = malloc(max + 1);
    unsigned char *plain = NULL;
    unsigned char key[DFT_KEY_BYTES];
    json_t *inner = NULL, *digests = NULL;
    enum dft_err rc = DFT_OK;
    if (box == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (b64 == NULL || blen > 2 * DFT_ENV_MAX || id == NULL ||
        dft_b64_decode(box, max, &n, b64, blen) != DFT_OK || n < crypto_box_seal_overhead()) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "privileged note %.48s: its sealed box is damaged",
                      id != NULL ? id : "?");
        goto out;
    }
    size_t plen = n - crypto_box_seal_overhead();
    plain = sodium_malloc(plen + 1);
    if (plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (crypto_box_open_sealed(plain, box, n, k->box_pk, k->box_sk, NULL) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "privileged note %s: its sealed box is damaged", id);
        goto out;
    }
    json_error_t jerr;
    inner = json_loadb((const char *)plain, plen, JSON_REJECT_DUPLICATES, &jerr);
    const char *rec = json_string_value(json_object_get(inner, "record"));
    const json_t *fields = json_object_get(inner, "fields");
    if (!json_is_object(inner) || json_object_size(inner) != 3 || rec == NULL ||
        strcmp(rec, id) != 0 || !json_is_object(fields) ||
        !b64_exact(key, sizeof key, json_object_get(inner, "salt_key"))) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY,
                      "privileged note %s: its sealed box belongs to another record", id);
        goto out;
    }
    if ((rc = field_digests(fields, key, &digests, err)) != DFT_OK) {
        goto out;
    }
    if (!same_digests(digests, json_object_get(sealed, "digests"))) {
        rc =
            dft_fail(err, DFT_ERR_INTEGRITY,
                     "privileged note %s: its sealed fields do not match their signed digests", id);
        goto out;
    }
    if (salt_key != NULL) {
        memcpy(salt_key, key, DFT_KEY_BYTES);
    }
    *fields_out = json_incref((json_t *)(uintptr_t)fields);
out:
    sodium_memzero(key, sizeof key);
    if (plain != NULL) {
        sodium_free(plain);
    }
    free(box);
    json_decref(digests);
    json_decref(inner);
    return rc;
}

enum dft_err
privileged_show(const struct dft_keys *k, json_t *rec, struct dft_error *err)
{
    const char *type = json_string_value(json_object_get(rec, "type"));
    if (!is_note_type(type) || privileged_sealed(json_object_get(rec, "fields")) == NULL) {
        return DFT_OK;
    }
    json_t *merged = json_object();
    int readable = 1;
    size_t i;
    json_t *op;
    if (merged == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    json_array_foreach(json_object_get(rec, "history"), i, op)
    {
        const char *action = json_string_value(json_object_get(op, "action"));
        const char *target = json_string_value(json_object_get(op, "record"));
        const json_t *fields = json_object_get(op, "fields");
        if (action == NULL || target == NULL ||
            strcmp(target, json_string_value(json_object_get(rec, "id"))) != 0 ||
            (strcmp(action, "create") != 0 && strcmp(action, "update") != 0)) {
            continue;
        }
        json_t *opened = NULL;
        if (privileged_sealed(fields) != NULL) {
            enum dft_err rc = privileged_open_op(k, op, &opened, NULL, err);
            if (rc != DFT_OK) {
                json_decref(merged);
                return rc;
            }
            if (opened == NULL) {
                readable = 0;
                break;
            }
        }
        const char *f;
        json_t *val;
        json_object_foreach(opened != NULL ? opened : (json_t *)(uintptr_t)fields, f, val)
        {
            if (strcmp(f, "sealed") == 0) {
                continue;
            }
            if (json_is_null(val)) {
                json_object_del(merged, f);
            } else {
                json_object_set(merged, f, val);
            }
        }
        json_decref(opened);
    }
    if (!readable) {
        json_object_clear(merged);
    }
    json_object_set_new(merged, "privileged", json_true());
    const char *title = json_string_value(json_object_get(merged, "title"));
    json_object_set_new(
        rec, "title",
        json_string(readable && title != NULL && title[0] != '\0' ? title : PRIVILEGED_TITLE));
    json_object_set_new(rec, "fields", merged);
    json_object_set_new(rec, "privileged", json_pack("{sbsb}", "sealed", 1, "readable", readable));
    return DFT_OK;
}
