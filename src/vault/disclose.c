/*
 * disclose.c - selective disclosure of single fields of one operation of an envelope.
 *
 * A disclosure carries the envelope's signed head, the revealed items with their salts, the
 * digests of the withheld items and the Merkle inclusion path of the operation hash under the
 * signed root (docs/vault-format.md "Disclosures"). Building one needs the seal key; checking one
 * needs nothing but the author's public key. Never puts a withheld value or salt, or any other
 * operation of the envelope, into a disclosure.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/privileged.h"

#define FIELD_PREFIX     "fields/"
#define FIELD_PREFIX_LEN 7
#define PATH_MAX_HASHES  64 /* a tree of 2^32 operations needs at most 32 */

static int
cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, DFT_HASH_BYTES);
}

/* The value of item name in op, or NULL when op has no such item. */
static const json_t *
item_value(const json_t *op, const char *name)
{
    if (strncmp(name, FIELD_PREFIX, FIELD_PREFIX_LEN) == 0) {
        return json_object_get(json_object_get(op, "fields"), name + FIELD_PREFIX_LEN);
    }
    if (strcmp(name, "fields") == 0) {
        return NULL;
    }
    return json_object_get(op, name);
}

static int
name_listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The operation's salt key from its plaintext item (checked when the envelope opened). */
static enum dft_err
salt_key(unsigned char key[DFT_SALT_KEY_BYTES], const json_t *item, struct dft_error *err)
{
    const char *s = json_string_value(json_object_get(item, "salt_key"));
    size_t kl = 0;
    if (s == NULL || dft_b64_decode(key, DFT_SALT_KEY_BYTES, &kl, s, strlen(s)) != DFT_OK ||
        kl != DFT_SALT_KEY_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope: missing or bad salt key");
    }
    return DFT_OK;
}

/* Digest of a withheld item into the next slot of w, unless it is revealed. */
static enum dft_err
withhold(const char *name, const json_t *value, const unsigned char key[DFT_SALT_KEY_BYTES],
         const char *const *names, size_t n_names, unsigned char *w, size_t *nw,
         struct dft_error *err)
{
    if (name_listed(name, names, n_names)) {
        return DFT_OK;
    }
    unsigned char salt[DFT_SALT_BYTES];
    sd_item_salt(salt, key, name);
    enum dft_err rc = sd_item_digest(w + *nw * DFT_HASH_BYTES, salt, name, value, err);
    sodium_memzero(salt, sizeof salt);
    if (rc == DFT_OK) {
        (*nw)++;
    }
    return rc;
}

static enum dft_err
add_hash_b64(json_t *arr, const unsigned char h[DFT_HASH_BYTES], struct dft_error *err)
{
    char b64[dft_b64_len(DFT_HASH_BYTES)];
    dft_b64_encode(b64, h, DFT_HASH_BYTES);
    if (json_array_append_new(arr, json_string(b64)) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

/* RFC 9162 section 2.1.3.1 PATH(m, D[0:n]) over leaf values h (op hashes), appended to path. */
static enum dft_err
inclusion_path(json_t *path, size_t m, const unsigned char *h, size_t n, struct dft_error *err)
{
    if (n <= 1) {
        return DFT_OK;
    }
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    unsigned char sub[DFT_HASH_BYTES];
    enum dft_err rc;
    if (m < k) {
        rc = inclusion_path(path, m, h, k, err);
        sd_tree_root(sub, h + k * DFT_HASH_BYTES, n - k);
    } else {
        rc = inclusion_path(path, m - k, h + k * DFT_HASH_BYTES, n - k, err);
        sd_tree_root(sub, h, k);
    }
    if (rc != DFT_OK) {
        return rc;
    }
    return add_hash_b64(path, sub, err);
}

enum dft_err
envelope_disclose(const struct dft_keys *k, const unsigned char *env, size_t n, size_t op_index,
                  const char *const *names, size_t n_names, json_t **out, struct dft_error *err)
{
    json_t *items = NULL;
    json_t *doc = NULL;
    unsigned char key[DFT_SALT_KEY_BYTES];
    unsigned char *hashes = NULL;
    unsigned char *withheld = NULL;
    enum dft_err rc = envelope_open_items(k, env, n, &items, err);
    if (rc != DFT_OK) {
        return rc;
    }
    size_t count = json_array_size(items);
    if (op_index >= count) {
        rc = dft_fail(err, DFT_ERR_INPUT, "the envelope has no operation %zu", op_index);
        goto out;
    }
    const json_t *op = json_object_get(json_array_get(items, op_index), "op");
    for (size_t i = 0; i < n_names; i++) {
        if (item_value(op, names[i]) == NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "the operation has no item '%.64s'", names[i]);
            goto out;
        }
        if (name_listed(names[i], names, i)) {
            rc = dft_fail(err, DFT_ERR_INPUT, "item '%.64s' is named twice", names[i]);
            goto out;
        }
    }
    const json_t *fields = json_object_get(op, "fields");
    hashes = malloc(count * DFT_HASH_BYTES);
    withheld = malloc((json_object_size(op) + json_object_size(fields) + 1) * DFT_HASH_BYTES);
    char head[dft_b64_len(DFT_ENV_HEAD_BYTES)];
    dft_b64_encode(head, env, DFT_ENV_HEAD_BYTES);
    doc = json_pack("{sisssIs[]s[]s[]}", "v", DFT_DISCLOSURE_VERSION, "head", head, "index",
                    (json_int_t)op_index, "revealed", "withheld", "path");
    if (hashes == NULL || withheld == NULL || doc == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *it = json_array_get(items, i);
        if ((rc = salt_key(key, it, err)) != DFT_OK ||
            (rc = sd_op_hash(hashes + i * DFT_HASH_BYTES, json_object_get(it, "op"), key, err)) !=
                DFT_OK) {
            goto out;
        }
    }
    if ((rc = salt_key(key, json_array_get(items, op_index), err)) != DFT_OK) {
        goto out;
    }
    json_t *revealed = json_object_get(doc, "revealed");
    for (size_t i = 0; i < n_names; i++) {
        unsigned char salt[DFT_SALT_BYTES];
        char salt_b64[dft_b64_len(DFT_SALT_BYTES)];
        sd_item_salt(salt, key, names[i]);
        dft_b64_encode(salt_b64, salt, sizeof salt);
        sodium_memzero(salt, sizeof salt);
        if (json_array_append_new(revealed,
                                  json_pack("{sssssO}", "name", names[i], "salt", salt_b64, "value",
                                            (json_t *)(uintptr_t)item_value(op, names[i]))) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    /* Items: every top-level key but "fields", then "fields/<name>" (as envelope.c). */
    size_t nw = 0;
    const char *name;
    const json_t *value;
    json_object_foreach((json_t *)(uintptr_t)op, name, value)
    {
        if (strcmp(name, "fields") != 0 &&
            (rc = withhold(name, value, key, names, n_names, withheld, &nw, err)) != DFT_OK) {
            goto out;
        }
    }
    json_object_foreach((json_t *)(uintptr_t)fields, name, value)
    {
        char full[512];
        if (snprintf(full, sizeof full, "fields/%s", name) >= (int)sizeof full) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
            goto out;
        }
        if ((rc = withhold(full, value, key, names, n_names, withheld, &nw, err)) != DFT_OK) {
            goto out;
        }
    }
    /* a sealed privileged note's sealed fields stay withheld, as the digests it commits to */
    unsigned char *sealed = NULL;
    size_t n_sealed = 0;
    if ((rc = privileged_digests(fields, &sealed, &n_sealed, err)) != DFT_OK) {
        goto out;
    }
    unsigned char *grown =
        n_sealed > 0 ? realloc(withheld, (nw + n_sealed) * DFT_HASH_BYTES) : withheld;
    if (grown == NULL) {
        free(sealed);
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    withheld = grown;
    if (n_sealed > 0) {
        memcpy(withheld + nw * DFT_HASH_BYTES, sealed, n_sealed * DFT_HASH_BYTES);
        nw += n_sealed;
    }
    free(sealed);
    /* Sorted, so the order says nothing about which fields are withheld. */
    qsort(withheld, nw, DFT_HASH_BYTES, cmp_digest);
    for (size_t i = 0; i < nw; i++) {
        if ((rc = add_hash_b64(json_object_get(doc, "withheld"), withheld + i * DFT_HASH_BYTES,
                               err)) != DFT_OK) {
            goto out;
        }
    }
    rc = inclusion_path(json_object_get(doc, "path"), op_index, hashes, count, err);
    if (rc != DFT_OK) {
        goto out;
    }
    *out = doc;
    doc = NULL;
out:
    sodium_memzero(key, sizeof key);
    free(hashes);
    free(withheld);
    json_decref(doc);
    json_decref(items);
    return rc;
}

/* Decode a base64 hash from a JSON string. */
static int
get_hash(unsigned char out[DFT_HASH_BYTES], const json_t *j)
{
    const char *s = json_string_value(j);
    size_t n = 0;
    return s != NULL &&
           dft_b64_decode(out, DFT_HASH_BYTES, &n, s, json_string_length(j)) == DFT_OK &&
           n == DFT_HASH_BYTES;
}

enum dft_err
disclosure_verify(const json_t *d, const unsigned char *author, struct dft_envelope_info *info_out,
                  json_t **revealed_out, struct dft_error *err)
{
    const char *bad = "malformed disclosure";
    const json_t *v = json_object_get(d, "v");
    const json_t *head_j = json_object_get(d, "head");
    const json_t *index_j = json_object_get(d, "index");
    const json_t *revealed = json_object_get(d, "revealed");
    const json_t *withheld = json_object_get(d, "withheld");
    const json_t *path = json_object_get(d, "path");
    if (!json_is_object(d) || json_object_size(d) != 6 || !json_is_integer(v) ||
        !json_is_string(head_j) || !json_is_integer(index_j) || !json_is_array(revealed) ||
        !json_is_array(withheld) || !json_is_array(path)) {
        return dft_fail(err, DFT_ERR_INPUT, "%s", bad);
    }
    if (json_integer_value(v) != DFT_DISCLOSURE_VERSION) {
        return dft_fail(err, DFT_ERR_INPUT, "unsupported disclosure version");
    }
    unsigned char head[DFT_ENV_HEAD_BYTES];
    size_t hl = 0;
    if (dft_b64_decode(head, sizeof head, &hl, json_string_value(head_j),
                       json_string_length(head_j)) != DFT_OK ||
        hl != DFT_ENV_HEAD_BYTES) {
        return dft_fail(err, DFT_ERR_INPUT, "%s (head)", bad);
    }
    size_t np = json_array_size(path);
    size_t nr = json_array_size(revealed);
    size_t nw = json_array_size(withheld);
    if (np > PATH_MAX_HASHES || nr + nw == 0 || nr > DFT_ENV_MAX / DFT_HASH_BYTES ||
        nw > DFT_ENV_MAX / DFT_HASH_BYTES) {
        return dft_fail(err, DFT_ERR_INPUT, "%s (sizes)", bad);
    }
    struct dft_envelope_info info;
    enum dft_err rc = envelope_inspect_head(head, &info, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (author != NULL && sodium_memcmp(author, info.author, DFT_SIGN_PK_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "disclosure is signed by another key");
    }
    json_int_t index = json_integer_value(index_j);
    if (index < 0 || (uint64_t)index >= info.op_count) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "disclosure index is outside the envelope");
    }
    unsigned char(*proof)[DFT_HASH_BYTES] = malloc((np + 1) * DFT_HASH_BYTES);
    unsigned char *d_buf = malloc(1 + (nr + nw) * DFT_HASH_BYTES);
    json_t *values = json_object();
    if (proof == NULL || d_buf == NULL || values == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        if (!get_hash(proof[i], json_array_get(path, i))) {
            rc = dft_fail(err, DFT_ERR_INPUT, "%s (path)", bad);
            goto out;
        }
    }
    unsigned char *digests = d_buf + 1;
    for (size_t i = 0; i < nw; i++) {
        if (!get_hash(digests + i * DFT_HASH_BYTES, json_array_get(withheld, i))) {
            rc = dft_fail(err, DFT_ERR_INPUT, "%s (withheld)", bad);
            goto out;
        }
    }
    for (size_t i = 0; i < nr; i++) {
        const json_t *it = json_array_get(revealed, i);
        const json_t *name_j = json_object_get(it, "name");
        const json_t *salt_j = json_object_get(it, "salt");
        const json_t *value = json_object_get(it, "value");
        unsigned char salt[DFT_SALT_BYTES];
        size_t sl = 0;
        if (!json_is_object(it) || json_object_size(it) != 3 || !json_is_string(name_j) ||
            !json_is_string(salt_j) || value == NULL ||
            strlen(json_string_value(name_j)) != json_string_length(name_j) ||
            dft_b64_decode(salt, sizeof salt, &sl, json_string_value(salt_j),
                           json_string_length(salt_j)) != DFT_OK ||
            sl != DFT_SALT_BYTES) {
            rc = dft_fail(err, DFT_ERR_INPUT, "%s (revealed item %zu)", bad, i);
            goto out;
        }
        const char *name = json_string_value(name_j);
        if (json_object_get(values, name) != NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "%s (item revealed twice)", bad);
            goto out;
        }
        rc = sd_item_digest(digests + (nw + i) * DFT_HASH_BYTES, salt, name, value, err);
        if (rc != DFT_OK) {
            goto out;
        }
        if (json_object_set(values, name, (json_t *)(uintptr_t)value) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    d_buf[0] = 0x02;
    qsort(digests, nr + nw, DFT_HASH_BYTES, cmp_digest);
    unsigned char op_hash[DFT_HASH_BYTES];
    crypto_sha256_once(op_hash, d_buf, 1 + (nr + nw) * DFT_HASH_BYTES);
    unsigned char leaf_hash[DFT_HASH_BYTES];
    crypto_leaf_hash(leaf_hash, op_hash, DFT_HASH_BYTES);
    if (tlog_verify_inclusion((uint64_t)index, info.op_count, leaf_hash,
                              (const unsigned char(*)[32])proof, np, info.sd_root,
                              NULL) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "disclosure does not match the signed root");
        goto out;
    }
    if (info_out != NULL) {
        *info_out = info;
    }
    if (revealed_out != NULL) {
        *revealed_out = values;
        values = NULL;
    }
out:
    free(proof);
    free(d_buf);
    json_decref(values);
    return rc;
}
