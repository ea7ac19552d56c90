/*
 * envelope.c - seal and open envelopes of operations.
 *
 * Disclosure items of an operation: each top-level key except "fields" (name = the key) and
 * each field (name = "fields/" + field name). Item digest = SHA-256(salt ‖ canonical [name,
 * value]); operation hash = SHA-256(0x02 ‖ sorted item digests); envelope root = RFC 6962 tree
 * hash over the operation hashes. Never returns operations that do not reproduce the signed
 * root; never writes plaintext anywhere but caller-owned memory.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/envelope.h"

static const char sign_domain[] = "defter/envelope/v1\n";

static void
put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t
get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct dump_ctx {
    struct dft_buf *out;
    enum dft_err rc;
};

static int
dump_cb(const char *buffer, size_t size, void *data)
{
    struct dump_ctx *c = data;
    c->rc = dft_buf_add(c->out, buffer, size);
    return c->rc == DFT_OK ? 0 : -1;
}

enum dft_err
dft_json_canonical(const json_t *j, struct dft_buf *out, struct dft_error *err)
{
    struct dump_ctx c = {out, DFT_OK};
    if (json_dump_callback(j, dump_cb, &c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0) {
        if (c.rc == DFT_ERR_TOO_LARGE) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "operation too large");
        }
        return dft_fail(err, c.rc != DFT_OK ? c.rc : DFT_ERR_INTERNAL, "cannot encode json");
    }
    return DFT_OK;
}

/* Names made of printable ASCII without quote or backslash need no JSON escaping. */
static int
plain_name(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            return 0;
        }
    }
    return 1;
}

/* Digest one item using b as scratch space (reset here, wiped after use, kept allocated). */
static enum dft_err
item_digest(unsigned char out[DFT_HASH_BYTES], const unsigned char salt[DFT_SALT_BYTES],
            const char *name, const json_t *value, struct dft_buf *scratch, struct dft_error *err)
{
    dft_buf_reset(scratch);
    enum dft_err rc = dft_buf_add(scratch, salt, DFT_SALT_BYTES);
    /* canonical_json([name, value]) written directly: '[' name ',' value ']' */
    if (rc == DFT_OK) {
        rc = dft_buf_add(scratch, "[", 1);
    }
    if (rc == DFT_OK && plain_name(name)) {
        rc = dft_buf_add(scratch, "\"", 1);
        if (rc == DFT_OK) {
            rc = dft_buf_adds(scratch, name);
        }
        if (rc == DFT_OK) {
            rc = dft_buf_add(scratch, "\"", 1);
        }
    } else if (rc == DFT_OK) {
        json_t *js = json_string(name);
        rc = js != NULL ? dft_json_canonical(js, scratch, err) : DFT_ERR_NOMEM;
        json_decref(js);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(scratch, ",", 1);
    }
    if (rc == DFT_OK) {
        rc = dft_json_canonical(value, scratch, err);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(scratch, "]", 1);
    }
    if (rc == DFT_OK) {
        dft_sha256(out, scratch->data, scratch->len);
    } else {
        rc = dft_fail(err, rc, "cannot encode an operation item");
    }
    if (scratch->data != NULL) {
        sodium_memzero(scratch->data, scratch->len);
    }
    return rc;
}

enum dft_err
dft_sd_item_digest(unsigned char out[DFT_HASH_BYTES], const unsigned char salt[DFT_SALT_BYTES],
                   const char *name, const json_t *value, struct dft_error *err)
{
    struct dft_buf b;
    dft_buf_init(&b, DFT_ENV_MAX, 0);
    enum dft_err rc = item_digest(out, salt, name, value, &b, err);
    dft_buf_release(&b);
    return rc;
}

static void
tree_root(unsigned char out[DFT_HASH_BYTES], const unsigned char *h, size_t n)
{
    if (n == 1) {
        unsigned char leaf[1 + DFT_HASH_BYTES];
        leaf[0] = 0x00;
        memcpy(leaf + 1, h, DFT_HASH_BYTES);
        dft_sha256(out, leaf, sizeof leaf);
        return;
    }
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    unsigned char node[1 + 2 * DFT_HASH_BYTES];
    node[0] = 0x01;
    tree_root(node + 1, h, k);
    tree_root(node + 1 + DFT_HASH_BYTES, h + k * DFT_HASH_BYTES, n - k);
    dft_sha256(out, node, sizeof node);
}

void
dft_sd_tree_root(unsigned char out[DFT_HASH_BYTES], const unsigned char *hashes, size_t n)
{
    DFT_ASSERT(n >= 1);
    tree_root(out, hashes, n);
}

static int
cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, DFT_HASH_BYTES);
}

/* Item names of an operation, in a fixed order: top-level keys, then "fields/<name>". */
static enum dft_err
op_hash(unsigned char out[DFT_HASH_BYTES], const json_t *op, const json_t *salts,
        struct dft_buf *scratch, struct dft_error *err)
{
    size_t cap = json_object_size(op) + json_object_size(json_object_get(op, "fields"));
    unsigned char *d = malloc((cap + 1) * DFT_HASH_BYTES);
    enum dft_err rc = DFT_OK;
    size_t n = 0;
    if (d == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    d[0] = 0x02;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)(uintptr_t)op, key, val)
    {
        if (strcmp(key, "fields") == 0) {
            continue;
        }
        const char *s = json_string_value(json_object_get(salts, key));
        unsigned char salt[DFT_SALT_BYTES];
        size_t sl = 0;
        if (s == NULL || dft_b64_decode(salt, sizeof salt, &sl, s, strlen(s)) != DFT_OK ||
            sl != DFT_SALT_BYTES) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope: missing or bad salt");
            goto out;
        }
        rc = item_digest(d + 1 + n * DFT_HASH_BYTES, salt, key, val, scratch, err);
        if (rc != DFT_OK) {
            goto out;
        }
        n++;
    }
    const json_t *fields = json_object_get(op, "fields");
    if (fields != NULL) {
        if (!json_is_object(fields)) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope: operation fields are not an object");
            goto out;
        }
        json_object_foreach((json_t *)(uintptr_t)fields, key, val)
        {
            char name[512];
            if (snprintf(name, sizeof name, "fields/%s", key) >= (int)sizeof name) {
                rc = dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
                goto out;
            }
            const char *s = json_string_value(json_object_get(salts, name));
            unsigned char salt[DFT_SALT_BYTES];
            size_t sl = 0;
            if (s == NULL || dft_b64_decode(salt, sizeof salt, &sl, s, strlen(s)) != DFT_OK ||
                sl != DFT_SALT_BYTES) {
                rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope: missing or bad salt");
                goto out;
            }
            rc = item_digest(d + 1 + n * DFT_HASH_BYTES, salt, name, val, scratch, err);
            if (rc != DFT_OK) {
                goto out;
            }
            n++;
        }
    }
    if (json_object_size(salts) != n) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope: salts do not match the operation");
        goto out;
    }
    qsort(d + 1, n, DFT_HASH_BYTES, cmp_digest);
    dft_sha256(out, d, 1 + n * DFT_HASH_BYTES);
out:
    free(d);
    return rc;
}

/*
 * Salts come from one ChaCha20 stream per envelope keyed by 32 fresh random bytes
 * (randombytes_buf_deterministic), instead of one getrandom call per item.
 */
struct salt_stream {
    unsigned char seed[randombytes_SEEDBYTES];
    unsigned char block[64 * DFT_SALT_BYTES];
    size_t used;   /* salts taken from block */
    uint64_t next; /* index of the next block */
};

static void
salt_next(struct salt_stream *ss, unsigned char out[DFT_SALT_BYTES])
{
    if (ss->used == 0 || ss->used == sizeof ss->block / DFT_SALT_BYTES) {
        unsigned char seed[randombytes_SEEDBYTES];
        /* block seed = BLAKE2b(seed ‖ block index): independent streams per block */
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, sizeof seed);
        crypto_generichash_update(&st, ss->seed, sizeof ss->seed);
        unsigned char idx[8];
        for (int i = 0; i < 8; i++) {
            idx[i] = (unsigned char)(ss->next >> (8 * i));
        }
        crypto_generichash_update(&st, idx, sizeof idx);
        crypto_generichash_final(&st, seed, sizeof seed);
        randombytes_buf_deterministic(ss->block, sizeof ss->block, seed);
        sodium_memzero(seed, sizeof seed);
        ss->next++;
        ss->used = 0;
    }
    memcpy(out, ss->block + ss->used * DFT_SALT_BYTES, DFT_SALT_BYTES);
    ss->used++;
}

static enum dft_err
add_salt(json_t *salts, const char *name, struct salt_stream *ss, struct dft_error *err)
{
    unsigned char salt[DFT_SALT_BYTES];
    char b64[dft_b64_len(DFT_SALT_BYTES)];
    salt_next(ss, salt);
    dft_b64_encode(b64, salt, sizeof salt);
    if (json_object_set_new(salts, name, json_string(b64)) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

static enum dft_err
make_salts(const json_t *op, json_t **out, struct salt_stream *ss, struct dft_error *err)
{
    json_t *salts = json_object();
    enum dft_err rc = DFT_OK;
    if (salts == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)(uintptr_t)op, key, val)
    {
        if (strcmp(key, "fields") == 0) {
            continue;
        }
        rc = add_salt(salts, key, ss, err);
        if (rc != DFT_OK) {
            goto out;
        }
    }
    json_object_foreach(json_object_get(op, "fields"), key, val)
    {
        char name[512];
        if (snprintf(name, sizeof name, "fields/%s", key) >= (int)sizeof name) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
            goto out;
        }
        rc = add_salt(salts, name, ss, err);
        if (rc != DFT_OK) {
            goto out;
        }
    }
out:
    if (rc != DFT_OK) {
        json_decref(salts);
        salts = NULL;
    }
    *out = salts;
    return rc;
}

static void
signed_message(unsigned char *msg, const unsigned char *head)
{
    memcpy(msg, sign_domain, sizeof sign_domain - 1);
    memcpy(msg + sizeof sign_domain - 1, head, 73);
}

enum dft_err
dft_envelope_seal(const struct dft_keys *k, const json_t *ops, struct dft_buf *out,
                  struct dft_error *err)
{
    size_t n = json_array_size(ops);
    enum dft_err rc = DFT_OK;
    unsigned char *hashes = NULL;
    json_t *plain = NULL;
    struct dft_buf pt;
    dft_buf_init(&pt, DFT_ENV_MAX - DFT_ENV_FIXED_BYTES - 16, 1);
    struct dft_buf scratch;
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    struct salt_stream ss;
    memset(&ss, 0, sizeof ss);
    randombytes_buf(ss.seed, sizeof ss.seed);
    if (n == 0 || n > UINT32_MAX) {
        return dft_fail(err, DFT_ERR_INTERNAL, "envelope must hold at least one operation");
    }
    hashes = malloc(n * DFT_HASH_BYTES);
    plain = json_array();
    if (hashes == NULL || plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *op = json_array_get(ops, i);
        json_t *salts = NULL;
        rc = make_salts(op, &salts, &ss, err);
        if (rc != DFT_OK) {
            goto out;
        }
        rc = op_hash(hashes + i * DFT_HASH_BYTES, op, salts, &scratch, err);
        if (rc != DFT_OK) {
            json_decref(salts);
            goto out;
        }
        if (json_array_append_new(
                plain, json_pack("{sOso}", "op", (json_t *)(uintptr_t)op, "salts", salts)) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    rc = dft_json_canonical(plain, &pt, err);
    if (rc != DFT_OK) {
        goto out;
    }
    size_t start = out->len;
    rc = dft_buf_reserve(out,
                         DFT_ENV_FIXED_BYTES + pt.len + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    if (rc != DFT_OK) {
        rc = dft_fail(err, rc, "operations too large for one envelope");
        goto out;
    }
    unsigned char *e = out->data + start;
    memcpy(e, DFT_ENV_MAGIC, 4);
    e[4] = DFT_ENV_VERSION;
    memcpy(e + 5, k->sign_pk, DFT_SIGN_PK_BYTES);
    put_u32(e + 37, (uint32_t)n);
    dft_sd_tree_root(e + 41, hashes, n);
    unsigned char msg[sizeof sign_domain - 1 + 73];
    signed_message(msg, e);
    crypto_sign_detached(e + 73, NULL, msg, sizeof msg, k->sign_sk);
    randombytes_buf(e + 137, 24);
    unsigned long long clen = 0;
    put_u32(e + 161, (uint32_t)(pt.len + crypto_aead_xchacha20poly1305_ietf_ABYTES));
    crypto_aead_xchacha20poly1305_ietf_encrypt(e + DFT_ENV_FIXED_BYTES, &clen, pt.data, pt.len, e,
                                               DFT_ENV_HEAD_BYTES, NULL, e + 137, k->seal_key);
    out->len = start + DFT_ENV_FIXED_BYTES + (size_t)clen;
    out->data[out->len] = '\0';
out:
    free(hashes);
    json_decref(plain);
    dft_buf_release(&pt); /* secure: wiped */
    sodium_memzero(&ss, sizeof ss);
    dft_buf_release(&scratch);
    return rc;
}

enum dft_err
dft_envelope_inspect(const unsigned char *e, size_t n, struct dft_envelope_info *info,
                     struct dft_error *err)
{
    if (n < DFT_ENV_FIXED_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES ||
        memcmp(e, DFT_ENV_MAGIC, 4) != 0 || e[4] != DFT_ENV_VERSION) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope is malformed");
    }
    uint32_t count = get_u32(e + 37);
    if (count == 0 || get_u32(e + 161) != n - DFT_ENV_FIXED_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope is malformed");
    }
    unsigned char msg[sizeof sign_domain - 1 + 73];
    signed_message(msg, e);
    if (crypto_sign_verify_detached(e + 73, msg, sizeof msg, e + 5) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope signature is invalid");
    }
    memcpy(info->author, e + 5, DFT_SIGN_PK_BYTES);
    info->op_count = count;
    memcpy(info->sd_root, e + 41, DFT_HASH_BYTES);
    return DFT_OK;
}

enum dft_err
dft_envelope_open(const struct dft_keys *k, const unsigned char *e, size_t n, json_t **ops_out,
                  struct dft_error *err)
{
    struct dft_envelope_info info;
    enum dft_err rc = dft_envelope_inspect(e, n, &info, err);
    if (rc != DFT_OK) {
        return rc;
    }
    size_t clen = n - DFT_ENV_FIXED_BYTES;
    size_t plen = clen - crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *pt = sodium_malloc(plen + 1);
    unsigned char *hashes = NULL;
    struct dft_buf scratch;
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    json_t *plain = NULL;
    json_t *ops = NULL;
    if (pt == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, e + DFT_ENV_FIXED_BYTES, clen, e,
                                                   DFT_ENV_HEAD_BYTES, e + 137, k->seal_key) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope does not decrypt (tampered or foreign)");
        goto out;
    }
    json_error_t jerr;
    plain = json_loadb((const char *)pt, plen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_array(plain) || json_array_size(plain) != info.op_count) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope content is malformed");
        goto out;
    }
    hashes = malloc((size_t)info.op_count * DFT_HASH_BYTES);
    ops = json_array();
    if (hashes == NULL || ops == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    char author[dft_b64_len(DFT_SIGN_PK_BYTES)];
    dft_b64_encode(author, info.author, DFT_SIGN_PK_BYTES);
    for (size_t i = 0; i < info.op_count; i++) {
        json_t *item = json_array_get(plain, i);
        json_t *op = json_object_get(item, "op");
        json_t *salts = json_object_get(item, "salts");
        if (!json_is_object(op) || !json_is_object(salts) ||
            !json_is_string(json_object_get(op, "author")) ||
            strcmp(json_string_value(json_object_get(op, "author")), author) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope operation %zu is malformed", i);
            goto out;
        }
        rc = op_hash(hashes + i * DFT_HASH_BYTES, op, salts, &scratch, err);
        if (rc != DFT_OK) {
            goto out;
        }
        json_array_append(ops, op);
    }
    unsigned char root[DFT_HASH_BYTES];
    dft_sd_tree_root(root, hashes, info.op_count);
    if (sodium_memcmp(root, info.sd_root, DFT_HASH_BYTES) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope content does not match its signed root");
        goto out;
    }
    *ops_out = ops;
    ops = NULL;
out:
    dft_buf_release(&scratch);
    sodium_free(pt);
    free(hashes);
    json_decref(plain);
    json_decref(ops);
    return rc;
}
