/*
 * verify_ophash.c - operation hashes from an envelope's canonical plaintext (verify_ophash.h).
 *
 * The same construction as envelope.c's op_hash: one item per top-level key but "fields" and one
 * per field ("fields/" + name), salt = BLAKE2b-128 keyed with the op's salt key over the item
 * name, item digest = SHA-256(salt ‖ '[' name ',' value ']') in canonical JSON, op hash =
 * SHA-256(0x02 ‖ sorted digests, the sealed fields' digests among them). In canonical JSON a
 * member's value is written exactly as the value alone, and a key without a backslash is written
 * as its bytes in quotes: both are copied from the text instead of encoded again.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "vault/privileged.h"
#include "vault/view.h"
#include "vault/verify_ophash.h"

#define NAME_MAX_BYTES 512 /* as op_hash: longer field names are its error to report */

struct digests {
    unsigned char *d; /* 0x02, then cap digests */
    size_t n, cap;
    crypto_generichash_state salt_base; /* keyed with the op's salt key, nothing hashed yet */
    struct dft_buf *scratch;
};

/* One item: prefix (may be empty) + key as its name, the value's canonical text as given. */
static int
add_item(struct digests *g, const char *prefix, const unsigned char *k, size_t kl,
         const unsigned char *v, size_t vl)
{
    char name[NAME_MAX_BYTES];
    size_t pl = strlen(prefix);
    if (g->n == g->cap || pl + kl + 1 > sizeof name || memchr(k, '\\', kl) != NULL) {
        return 0;
    }
    memcpy(name, prefix, pl);
    memcpy(name + pl, k, kl);
    name[pl + kl] = '\0';
    /* sd_item_salt (keyed BLAKE2b-128 of the name), from the state keyed once per op */
    unsigned char salt[DFT_SALT_BYTES];
    crypto_generichash_state st = g->salt_base;
    crypto_generichash_update(&st, (const unsigned char *)name, pl + kl);
    crypto_generichash_final(&st, salt, sizeof salt);
    sodium_memzero(&st, sizeof st);
    struct dft_buf *b = g->scratch;
    dft_buf_reset(b);
    enum dft_err rc = dft_buf_add(b, salt, sizeof salt);
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, "[\"", 2);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, name, pl + kl);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, "\",", 2);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, v, vl);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, "]", 1);
    }
    if (rc == DFT_OK) {
        crypto_sha256_once(g->d + 1 + g->n * DFT_HASH_BYTES, b->data, b->len);
        g->n++;
    }
    if (b->data != NULL) {
        sodium_memzero(b->data, b->len);
    }
    sodium_memzero(salt, sizeof salt);
    sodium_memzero(name, sizeof name);
    return rc == DFT_OK;
}

/*
 * Each member of the object text s[0, n) (canonical): fields (the value of "fields", when top
 * is set) is walked as well. *count: members seen. 0: not the expected shape.
 */
static int
walk(struct digests *g, const unsigned char *s, size_t n, int top, size_t *count,
     size_t *field_count)
{
    if (n < 2 || s[0] != '{' || s[n - 1] != '}') {
        return 0;
    }
    size_t i = 1;
    if (s[1] == '}') {
        return n == 2;
    }
    while (i < n && s[i] == '"') {
        size_t kend = view_skip_string(s, n, i);
        if (kend >= n || s[kend] != ':') {
            return 0;
        }
        const unsigned char *k = s + i + 1;
        size_t kl = kend - i - 2;
        size_t v = kend + 1;
        size_t vend = view_skip_value(s, n, v);
        if (vend >= n || vend == v) {
            return 0;
        }
        if (top && kl == 6 && memcmp(k, "fields", 6) == 0) {
            if (!walk(g, s + v, vend - v, 0, field_count, NULL)) {
                return 0;
            }
        } else if (!add_item(g, top ? "" : "fields/", k, kl, s + v, vend - v)) {
            return 0;
        } else {
            (*count)++;
        }
        if (s[vend] == '}') {
            return vend == n - 1;
        }
        if (s[vend] != ',') {
            return 0;
        }
        i = vend + 1;
    }
    return 0;
}

static int
cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, DFT_HASH_BYTES);
}

int
verify_op_hash_text(unsigned char out[DFT_HASH_BYTES], const json_t *op, const unsigned char *t,
                    size_t n, const unsigned char key[DFT_SALT_KEY_BYTES], struct dft_buf *scratch)
{
    const json_t *fields = json_object_get(op, "fields");
    struct dft_error ignored = {0};
    unsigned char *sealed = NULL;
    size_t n_sealed = 0;
    if (!json_is_object(op) || (fields != NULL && !json_is_object(fields)) ||
        privileged_digests(fields, &sealed, &n_sealed, &ignored) != DFT_OK) {
        return 0;
    }
    size_t top = json_object_size(op) - (fields != NULL);
    size_t cap = top + json_object_size(fields) + n_sealed;
    struct digests g;
    g.d = malloc(1 + (cap + 1) * DFT_HASH_BYTES);
    g.n = 0;
    g.cap = cap;
    g.scratch = scratch;
    if (g.d == NULL) {
        free(sealed);
        return 0;
    }
    crypto_generichash_init(&g.salt_base, key, DFT_SALT_KEY_BYTES, DFT_SALT_BYTES);
    g.d[0] = 0x02;
    if (n_sealed > 0) {
        memcpy(g.d + 1, sealed, n_sealed * DFT_HASH_BYTES);
        g.n = n_sealed;
    }
    free(sealed);
    size_t seen = 0, seen_fields = 0;
    int ok = walk(&g, t, n, 1, &seen, &seen_fields) && seen == top &&
             seen_fields == json_object_size(fields) && g.n == cap;
    if (ok) {
        qsort(g.d + 1, g.n, DFT_HASH_BYTES, cmp_digest);
        crypto_sha256_once(out, g.d, 1 + g.n * DFT_HASH_BYTES);
    }
    free(g.d);
    sodium_memzero(&g.salt_base, sizeof g.salt_base);
    return ok;
}

enum dft_err
verify_open_hash_kept(const json_t *items, const struct dft_envelope_info *info,
                      const struct envelope_plain *plain, size_t from, size_t to,
                      unsigned char *hashes, struct dft_error *err)
{
    if (plain == NULL || !plain->canonical || plain->op_off == NULL || plain->op_len == NULL) {
        return envelope_open_hash(items, info, from, to, hashes, err);
    }
    enum dft_err rc = DFT_OK;
    struct dft_buf scratch;
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    unsigned char key[DFT_SALT_KEY_BYTES];
    char author[dft_b64_len(DFT_SIGN_PK_BYTES)];
    dft_b64_encode(author, info->author, DFT_SIGN_PK_BYTES);
    for (size_t i = from; i < to && rc == DFT_OK; i++) {
        json_t *item = json_array_get(items, i);
        json_t *op = json_object_get(item, "op");
        const char *kb = json_string_value(json_object_get(item, "salt_key"));
        size_t kl = 0;
        /* the checks of envelope_open_hash; it reports what fails them */
        if (!json_is_object(op) || json_object_size(item) != 2 || kb == NULL ||
            dft_b64_decode(key, sizeof key, &kl, kb, strlen(kb)) != DFT_OK ||
            kl != DFT_SALT_KEY_BYTES || !json_is_string(json_object_get(op, "author")) ||
            strcmp(json_string_value(json_object_get(op, "author")), author) != 0 ||
            plain->op_len[i] == 0 ||
            !verify_op_hash_text(hashes + i * DFT_HASH_BYTES, op, plain->data + plain->op_off[i],
                                 plain->op_len[i], key, &scratch)) {
            rc = envelope_open_hash(items, info, i, i + 1, hashes, err);
        }
    }
    sodium_memzero(key, sizeof key);
    dft_buf_release(&scratch);
    return rc;
}
