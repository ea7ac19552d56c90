/*
 * envelope.c - seal and open envelopes of operations.
 *
 * Disclosure items of an operation: each top-level key except "fields" (name = the key) and
 * each field (name = "fields/" + field name). Each item's salt = BLAKE2b-128 keyed with the
 * operation's random 32-byte salt key over the item name; item digest = SHA-256(salt ‖
 * canonical [name, value]); operation hash = SHA-256(0x02 ‖ sorted item digests); envelope
 * root = RFC 6962 tree hash over the operation hashes. Never returns operations that do not
 * reproduce the signed root; never writes plaintext anywhere but caller-owned memory.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/json_fast.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/privileged.h"

static const char sign_domain[] = "defter/envelope/v1\n";

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

/* jansson's own compact, key-sorted dump: the reference the fast writer below reproduces */
enum dft_err
json_canonical_jansson(const json_t *j, struct dft_buf *out, struct dft_error *err)
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

static enum dft_err canon_string(struct dft_buf *b, const char *s, size_t n);

#define CANON_DEPTH_MAX 64 /* deeper values are left to jansson */
#define CANON_UNSUPPORTED                                                                          \
    DFT_ERR_USAGE /* a value the fast writer leaves to jansson (reals, odd keys, depth) */

static enum dft_err canon_fast(struct dft_buf *b, const json_t *j, int depth);

struct canon_key {
    const char *key;
    const json_t *val;
};

static int
cmp_canon_key(const void *a, const void *b)
{
    return strcmp(((const struct canon_key *)a)->key, ((const struct canon_key *)b)->key);
}

static enum dft_err
canon_object(struct dft_buf *b, const json_t *o, int depth)
{
    size_t n = json_object_size(o);
    struct canon_key small[32];
    struct canon_key *keys = n <= 32 ? small : malloc(n * sizeof *keys);
    enum dft_err rc = DFT_OK;
    size_t k = 0;
    const char *key;
    size_t key_len;
    json_t *val;
    if (keys == NULL) {
        return DFT_ERR_NOMEM;
    }
    json_object_keylen_foreach((json_t *)(uintptr_t)o, key, key_len, val)
    {
        if (k == n || key_len != strlen(key)) {
            rc = CANON_UNSUPPORTED; /* a key holding NUL: jansson orders it by length too */
            break;
        }
        keys[k].key = key;
        keys[k].val = val;
        k++;
    }
    if (rc == DFT_OK && k > 1) {
        /* keys are distinct, so the order is total: the same as jansson's sort */
        if (k <= 16) {
            for (size_t i = 1; i < k; i++) {
                struct canon_key t = keys[i];
                size_t m = i;
                for (; m > 0 && strcmp(keys[m - 1].key, t.key) > 0; m--) {
                    keys[m] = keys[m - 1];
                }
                keys[m] = t;
            }
        } else {
            qsort(keys, k, sizeof *keys, cmp_canon_key);
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, "{", 1);
    }
    for (size_t i = 0; i < k && rc == DFT_OK; i++) {
        if (i > 0) {
            rc = dft_buf_add(b, ",", 1);
        }
        if (rc == DFT_OK) {
            rc = canon_string(b, keys[i].key, strlen(keys[i].key));
        }
        if (rc == DFT_OK) {
            rc = dft_buf_add(b, ":", 1);
        }
        if (rc == DFT_OK) {
            rc = canon_fast(b, keys[i].val, depth + 1);
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, "}", 1);
    }
    if (keys != small) {
        free(keys);
    }
    return rc;
}

static enum dft_err
canon_fast(struct dft_buf *b, const json_t *j, int depth)
{
    if (depth > CANON_DEPTH_MAX) {
        return CANON_UNSUPPORTED;
    }
    switch (json_typeof(j)) {
    case JSON_STRING:
        return canon_string(b, json_string_value(j), json_string_length(j));
    case JSON_INTEGER: {
        char num[32];
        int len = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return dft_buf_add(b, num, (size_t)len);
    }
    case JSON_TRUE:
        return dft_buf_add(b, "true", 4);
    case JSON_FALSE:
        return dft_buf_add(b, "false", 5);
    case JSON_NULL:
        return dft_buf_add(b, "null", 4);
    case JSON_ARRAY: {
        enum dft_err rc = dft_buf_add(b, "[", 1);
        size_t n = json_array_size(j);
        for (size_t i = 0; i < n && rc == DFT_OK; i++) {
            if (i > 0) {
                rc = dft_buf_add(b, ",", 1);
            }
            if (rc == DFT_OK) {
                rc = canon_fast(b, json_array_get(j, i), depth + 1);
            }
        }
        return rc == DFT_OK ? dft_buf_add(b, "]", 1) : rc;
    }
    case JSON_OBJECT:
        return canon_object(b, j, depth);
    default:
        return CANON_UNSUPPORTED; /* reals: jansson's number format */
    }
}

/*
 * Canonical JSON = jansson's compact dump with sorted keys, written here directly (a third of
 * the cost: no callback per piece, no key array from the heap for small objects); a value it
 * does not handle (a real number, a key holding NUL, deep nesting) is dumped by jansson.
 * tests/vault/test_canonical.c checks both give the same bytes.
 */
enum dft_err
json_canonical(const json_t *j, struct dft_buf *out, struct dft_error *err)
{
    size_t start = out->len;
    enum dft_err rc = j == NULL ? CANON_UNSUPPORTED : canon_fast(out, j, 0);
    if (rc == DFT_OK) {
        return DFT_OK;
    }
    if (out->data != NULL) {
        sodium_memzero(out->data + start, out->len - start);
    }
    out->len = start;
    if (rc == CANON_UNSUPPORTED) {
        return json_canonical_jansson(j, out, err);
    }
    if (rc == DFT_ERR_TOO_LARGE) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "operation too large");
    }
    return dft_fail(err, rc, "cannot encode json");
}

/*
 * Canonical JSON of a string, byte for byte what jansson's compact dump writes: quote,
 * backslash and control characters escaped (\b \f \n \r \t, else \u00XX upper-case), all
 * else verbatim UTF-8.
 */
static enum dft_err
canon_string(struct dft_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    enum dft_err rc = dft_buf_reserve(b, n + 2);
    size_t start = 0;
    if (rc != DFT_OK) {
        return rc;
    }
    b->data[b->len++] = '"';
    for (size_t i = 0; i < n && rc == DFT_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        rc = dft_buf_add(b, s + start, i - start);
        start = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        if (rc == DFT_OK) {
            rc = dft_buf_add(b, esc, len);
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, s + start, n - start);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(b, "\"", 1);
    }
    return rc;
}

enum dft_err
json_canonical_strings(const char *const *s, size_t n, struct dft_buf *out, struct dft_error *err)
{
    enum dft_err rc = dft_buf_add(out, "[", 1);
    for (size_t i = 0; i < n && rc == DFT_OK; i++) {
        if (i > 0) {
            rc = dft_buf_add(out, ",", 1);
        }
        if (rc == DFT_OK) {
            rc = canon_string(out, s[i], strlen(s[i]));
        }
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(out, "]", 1);
    }
    return rc == DFT_OK ? DFT_OK : dft_fail(err, rc, "cannot encode json");
}

static enum dft_err
canon_value(struct dft_buf *b, const json_t *v, struct dft_error *err)
{
    if (json_is_string(v)) {
        enum dft_err rc = canon_string(b, json_string_value(v), json_string_length(v));
        return rc == DFT_OK ? DFT_OK : dft_fail(err, rc, "operation too large");
    }
    return json_canonical(v, b, err);
}

/* Digest one item using scratch as work space (reset here, wiped after use, kept allocated). */
static enum dft_err
item_digest(unsigned char out[DFT_HASH_BYTES], const unsigned char salt[DFT_SALT_BYTES],
            const char *name, const json_t *value, struct dft_buf *scratch, struct dft_error *err)
{
    dft_buf_reset(scratch);
    enum dft_err rc = dft_buf_add(scratch, salt, DFT_SALT_BYTES);
    /* canonical_json([name, value]) = '[' name ',' value ']' */
    if (rc == DFT_OK) {
        rc = dft_buf_add(scratch, "[", 1);
    }
    if (rc == DFT_OK) {
        rc = canon_string(scratch, name, strlen(name));
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(scratch, ",", 1);
    }
    if (rc == DFT_OK) {
        rc = canon_value(scratch, value, err);
    }
    if (rc == DFT_OK) {
        rc = dft_buf_add(scratch, "]", 1);
    }
    if (rc == DFT_OK) {
        crypto_sha256_once(out, scratch->data, scratch->len);
    } else {
        rc = dft_fail(err, rc, "cannot encode an operation item");
    }
    if (scratch->data != NULL) {
        sodium_memzero(scratch->data, scratch->len);
    }
    return rc;
}

enum dft_err
sd_item_digest(unsigned char out[DFT_HASH_BYTES], const unsigned char salt[DFT_SALT_BYTES],
               const char *name, const json_t *value, struct dft_error *err)
{
    struct dft_buf b;
    dft_buf_init(&b, DFT_ENV_MAX, 0);
    enum dft_err rc = item_digest(out, salt, name, value, &b, err);
    dft_buf_release(&b);
    return rc;
}

void
sd_item_salt(unsigned char salt[DFT_SALT_BYTES], const unsigned char key[DFT_SALT_KEY_BYTES],
             const char *name)
{
    crypto_generichash(salt, DFT_SALT_BYTES, (const unsigned char *)name, strlen(name), key,
                       DFT_SALT_KEY_BYTES);
}

static void
tree_root(unsigned char out[DFT_HASH_BYTES], const unsigned char *h, size_t n)
{
    if (n == 1) {
        crypto_leaf_hash(out, h, DFT_HASH_BYTES);
        return;
    }
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    unsigned char left[DFT_HASH_BYTES], right[DFT_HASH_BYTES];
    tree_root(left, h, k);
    tree_root(right, h + k * DFT_HASH_BYTES, n - k);
    tlog_hash_node(out, left, right);
}

void
sd_tree_root(unsigned char out[DFT_HASH_BYTES], const unsigned char *hashes, size_t n)
{
    DFT_ASSERT(n >= 1);
    tree_root(out, hashes, n);
}

static int
cmp_digest(const void *a, const void *b)
{
    return memcmp(a, b, DFT_HASH_BYTES);
}

/* The operation hash: items are the top-level keys but "fields", then "fields/<name>". */
static enum dft_err
op_hash(unsigned char out[DFT_HASH_BYTES], const json_t *op,
        const unsigned char key[DFT_SALT_KEY_BYTES], struct dft_buf *scratch, struct dft_error *err)
{
    const json_t *fields = json_object_get(op, "fields");
    if (fields != NULL && !json_is_object(fields)) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope: operation fields are not an object");
    }
    /* a sealed privileged note commits to the digests of its sealed fields (privileged.c) */
    unsigned char *sealed = NULL;
    size_t n_sealed = 0;
    enum dft_err rc = privileged_digests(fields, &sealed, &n_sealed, err);
    if (rc != DFT_OK) {
        return rc;
    }
    size_t cap = json_object_size(op) + json_object_size(fields) + n_sealed;
    unsigned char *d = malloc(1 + (cap + 1) * DFT_HASH_BYTES);
    size_t n = 0;
    if (d == NULL) {
        free(sealed);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (n_sealed > 0) {
        memcpy(d + 1, sealed, n_sealed * DFT_HASH_BYTES);
        n = n_sealed;
    }
    free(sealed);
    d[0] = 0x02;
    unsigned char salt[DFT_SALT_BYTES];
    const char *key_name;
    const json_t *val;
    json_object_foreach((json_t *)(uintptr_t)op, key_name, val)
    {
        if (strcmp(key_name, "fields") == 0) {
            continue;
        }
        sd_item_salt(salt, key, key_name);
        rc = item_digest(d + 1 + n * DFT_HASH_BYTES, salt, key_name, val, scratch, err);
        if (rc != DFT_OK) {
            goto out;
        }
        n++;
    }
    json_object_foreach((json_t *)(uintptr_t)fields, key_name, val)
    {
        char name[512];
        size_t kl = strlen(key_name);
        if (kl + 8 > sizeof name) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "field name too long");
            goto out;
        }
        memcpy(name, "fields/", 7);
        memcpy(name + 7, key_name, kl + 1);
        sd_item_salt(salt, key, name);
        rc = item_digest(d + 1 + n * DFT_HASH_BYTES, salt, name, val, scratch, err);
        if (rc != DFT_OK) {
            goto out;
        }
        n++;
    }
    qsort(d + 1, n, DFT_HASH_BYTES, cmp_digest);
    crypto_sha256_once(out, d, 1 + n * DFT_HASH_BYTES);
out:
    sodium_memzero(salt, sizeof salt);
    free(d);
    return rc;
}

/*
 * Salt keys come from one ChaCha20 stream per envelope keyed by 32 fresh random bytes
 * (randombytes_buf_deterministic), instead of one getrandom call per operation.
 */
struct key_stream {
    unsigned char seed[randombytes_SEEDBYTES];
    unsigned char block[64 * DFT_SALT_KEY_BYTES];
    size_t used;   /* keys taken from block */
    uint64_t next; /* index of the next block */
};

static void
key_next(struct key_stream *ks, unsigned char out[DFT_SALT_KEY_BYTES])
{
    if (ks->used == 0 || ks->used == sizeof ks->block / DFT_SALT_KEY_BYTES) {
        unsigned char seed[randombytes_SEEDBYTES];
        unsigned char idx[8];
        /* block seed = BLAKE2b(seed ‖ block index): an independent stream per block */
        for (int i = 0; i < 8; i++) {
            idx[i] = (unsigned char)(ks->next >> (8 * i));
        }
        crypto_generichash(seed, sizeof seed, idx, sizeof idx, ks->seed, sizeof ks->seed);
        randombytes_buf_deterministic(ks->block, sizeof ks->block, seed);
        sodium_memzero(seed, sizeof seed);
        ks->next++;
        ks->used = 0;
    }
    memcpy(out, ks->block + ks->used * DFT_SALT_KEY_BYTES, DFT_SALT_KEY_BYTES);
    ks->used++;
}

static void
signed_message(unsigned char *msg, const unsigned char *head)
{
    memcpy(msg, sign_domain, sizeof sign_domain - 1);
    memcpy(msg + sizeof sign_domain - 1, head, 73);
}

enum dft_err
envelope_seal(const struct dft_keys *k, const json_t *ops, struct dft_buf *out,
              struct dft_error *err)
{
    return envelope_seal_each(k, ops, out, NULL, NULL, err);
}

/*
 * The operation hashes of a seal, computed in ranges taken from a shared counter: by a helper
 * thread from the start, and by the sealer once it has written the envelope's plaintext (the
 * keyed salts and digests are about two thirds of a seal). Each range starts at a block of the
 * key stream, which it regenerates from the stream's seed, so every operation gets the same key
 * on any thread. The lowest operation that failed is the one reported, as when hashed in turn.
 */
#define SEAL_RANGE    256  /* operations per range: a multiple of a key block's 64 keys */
#define SEAL_THREADED 1024 /* fewer operations are hashed by the sealer alone */

struct seal_hashes {
    const json_t *ops;
    size_t n;
    const unsigned char *seed; /* the key stream's seed */
    unsigned char *hashes;     /* out: n digests */
    _Atomic size_t next;       /* the first operation of the next range */
    pthread_mutex_t lock;      /* guards the failure below */
    size_t failed;             /* the lowest operation whose hash failed, or n */
    enum dft_err rc;
    struct dft_error err;
};

static void
seal_hash_ranges(struct seal_hashes *h)
{
    struct dft_buf scratch;
    struct key_stream ks;
    unsigned char key[DFT_SALT_KEY_BYTES];
    struct dft_error err = {DFT_OK, ""};
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    memset(&ks, 0, sizeof ks);
    memcpy(ks.seed, h->seed, sizeof ks.seed);
    for (;;) {
        size_t from = atomic_fetch_add(&h->next, SEAL_RANGE);
        if (from >= h->n) {
            break;
        }
        size_t to = h->n - from < SEAL_RANGE ? h->n : from + SEAL_RANGE;
        ks.next = from / (sizeof ks.block / DFT_SALT_KEY_BYTES);
        ks.used = 0; /* the next key_next makes block ks.next */
        for (size_t i = from; i < to; i++) {
            key_next(&ks, key);
            enum dft_err rc = op_hash(h->hashes + i * DFT_HASH_BYTES, json_array_get(h->ops, i),
                                      key, &scratch, &err);
            if (rc != DFT_OK) {
                pthread_mutex_lock(&h->lock);
                if (i < h->failed) {
                    h->failed = i;
                    h->rc = rc;
                    h->err = err;
                }
                pthread_mutex_unlock(&h->lock);
                dft_error_clear(&err);
                break;
            }
        }
    }
    dft_buf_release(&scratch);
    sodium_memzero(&ks, sizeof ks);
    sodium_memzero(key, sizeof key);
}

static void *
seal_hash_thread(void *arg)
{
    seal_hash_ranges(arg);
    return NULL;
}

enum dft_err
envelope_seal_each(const struct dft_keys *k, const json_t *ops, struct dft_buf *out,
                   envelope_op_fn each, void *ctx, struct dft_error *err)
{
    size_t n = json_array_size(ops);
    enum dft_err rc = DFT_OK;
    unsigned char *hashes = NULL;
    struct dft_buf pt;
    struct key_stream ks;
    unsigned char key[DFT_SALT_KEY_BYTES];
    char key_b64[dft_b64_len(DFT_SALT_KEY_BYTES)];
    if (n == 0 || n > UINT32_MAX) {
        return dft_fail(err, DFT_ERR_INTERNAL, "envelope must hold at least one operation");
    }
    dft_buf_init(&pt, DFT_ENV_MAX - DFT_ENV_FIXED_BYTES - 16, 1);
    memset(&ks, 0, sizeof ks);
    randombytes_buf(ks.seed, sizeof ks.seed);
    hashes = malloc(n * DFT_HASH_BYTES);
    if (hashes == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct seal_hashes sh = {.ops = ops, .n = n, .seed = ks.seed, .hashes = hashes, .failed = n};
    atomic_init(&sh.next, 0);
    pthread_t helper;
    int helped = 0;
    if (pthread_mutex_init(&sh.lock, NULL) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (n >= SEAL_THREADED) {
        helped = pthread_create(&helper, NULL, seal_hash_thread, &sh) == 0;
    }
    size_t written = n; /* the first operation whose plaintext failed, or n */
    enum dft_err wrc = DFT_OK;
    struct dft_error werr = {DFT_OK, ""}; /* its message: a failed hash before it wins */
    for (size_t i = 0; i < n && wrc == DFT_OK; i++) {
        const json_t *op = json_array_get(ops, i);
        key_next(&ks, key);
        /* Canonical {"op":…,"salt_key":…} written piecewise: "op" sorts first. */
        dft_b64_encode(key_b64, key, sizeof key);
        wrc = dft_buf_adds(&pt, i == 0 ? "[{\"op\":" : ",{\"op\":");
        size_t at = pt.len;
        if (wrc == DFT_OK) {
            wrc = json_canonical(op, &pt, &werr);
        }
        if (wrc == DFT_OK && each != NULL) {
            each(ctx, i, pt.data + at, pt.len - at);
        }
        if (wrc == DFT_OK) {
            wrc = dft_buf_addf(&pt, ",\"salt_key\":\"%s\"}", key_b64);
        }
        if (wrc == DFT_OK && i == 0 && n > 1) {
            /* room for all at the first one's size: no copies of a growing buffer (best effort) */
            enum dft_err roomy = dft_buf_reserve(&pt, (pt.len + 64) * (n - 1) + 1);
            (void)roomy; /* without the room, the buffer grows as it goes */
        }
        if (wrc != DFT_OK) {
            written = i;
        }
    }
    if (wrc == DFT_OK) {
        wrc = dft_buf_adds(&pt, "]");
    }
    seal_hash_ranges(&sh); /* the ranges the helper has not taken */
    if (helped) {
        pthread_join(helper, NULL);
    }
    pthread_mutex_destroy(&sh.lock);
    if (sh.failed < n && sh.failed <= written) {
        /* an operation's hash failed first, as when each was hashed before it was written */
        rc = dft_fail(err, sh.rc, "%s", sh.err.msg);
        goto out;
    }
    if (wrc != DFT_OK) {
        if (werr.code != DFT_OK) {
            (void)dft_fail(err, werr.code, "%s", werr.msg);
        }
        rc = dft_fail(err, wrc, "operations too large for one envelope");
        goto out;
    }
    size_t start = out->len;
    rc = dft_buf_reserve(out, DFT_ENV_FIXED_BYTES + pt.len + CRYPTO_XCHACHA_TAG_BYTES);
    if (rc != DFT_OK) {
        rc = dft_fail(err, rc, "operations too large for one envelope");
        goto out;
    }
    unsigned char *e = out->data + start;
    memcpy(e, DFT_ENV_MAGIC, 4);
    e[4] = DFT_ENV_VERSION;
    memcpy(e + 5, k->sign_pk, DFT_SIGN_PK_BYTES);
    dft_be_put(e + 37, (uint32_t)n, 4);
    sd_tree_root(e + 41, hashes, n);
    unsigned char msg[sizeof sign_domain - 1 + 73];
    signed_message(msg, e);
    crypto_sign_detached(e + 73, NULL, msg, sizeof msg, k->sign_sk);
    crypto_xchacha_nonce(e + 137);
    dft_be_put(e + 161, (uint32_t)(pt.len + CRYPTO_XCHACHA_TAG_BYTES), 4);
    crypto_xchacha_seal(e + DFT_ENV_FIXED_BYTES, pt.data, pt.len, e, DFT_ENV_HEAD_BYTES, e + 137,
                        k->seal_key);
    out->len = start + DFT_ENV_FIXED_BYTES + pt.len + CRYPTO_XCHACHA_TAG_BYTES;
    out->data[out->len] = '\0';
out:
    free(hashes);
    dft_buf_release(&pt); /* secure: wiped */
    sodium_memzero(&ks, sizeof ks);
    sodium_memzero(key, sizeof key);
    return rc;
}

enum dft_err
envelope_inspect_head(const unsigned char *e, struct dft_envelope_info *info, struct dft_error *err)
{
    if (memcmp(e, DFT_ENV_MAGIC, 4) != 0 || e[4] != DFT_ENV_VERSION ||
        (uint32_t)dft_be_get(e + 37, 4) == 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope is malformed");
    }
    unsigned char msg[sizeof sign_domain - 1 + 73];
    signed_message(msg, e);
    if (crypto_sign_verify_detached(e + 73, msg, sizeof msg, e + 5) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope signature is invalid");
    }
    memcpy(info->author, e + 5, DFT_SIGN_PK_BYTES);
    info->op_count = (uint32_t)dft_be_get(e + 37, 4);
    memcpy(info->sd_root, e + 41, DFT_HASH_BYTES);
    return DFT_OK;
}

enum dft_err
envelope_inspect(const unsigned char *e, size_t n, struct dft_envelope_info *info,
                 struct dft_error *err)
{
    if (n < DFT_ENV_FIXED_BYTES + CRYPTO_XCHACHA_TAG_BYTES || memcmp(e, DFT_ENV_MAGIC, 4) != 0 ||
        e[4] != DFT_ENV_VERSION || (uint32_t)dft_be_get(e + 161, 4) != n - DFT_ENV_FIXED_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope is malformed");
    }
    return envelope_inspect_head(e, info, err);
}

void
envelope_plain_free(struct envelope_plain *plain)
{
    if (plain->data != NULL) {
        sodium_free(plain->data); /* wipes */
    }
    free(plain->op_off);
    free(plain->op_len);
    memset(plain, 0, sizeof *plain);
}

/*
 * Decrypt and parse (envelope_open_items in parts: verify_pipe.c hashes on two threads); with
 * plain, the plaintext is kept there with where each op lies in it.
 */
/* the shortest item of an envelope's array: {"op":0,"salt_key":""} plus its comma */
#define ENVELOPE_ITEM_MIN_BYTES 23

enum dft_err
envelope_open_parse_kept(const struct dft_keys *k, const unsigned char *e, size_t n,
                         struct dft_envelope_info *info, json_t **items_out,
                         struct envelope_plain *plain, struct dft_error *err)
{
    enum dft_err rc = envelope_inspect(e, n, info, err);
    if (plain != NULL) {
        memset(plain, 0, sizeof *plain);
    }
    if (rc != DFT_OK) {
        return rc;
    }
    size_t clen = n - DFT_ENV_FIXED_BYTES;
    size_t plen = clen - CRYPTO_XCHACHA_TAG_BYTES;
    unsigned char *pt = sodium_malloc(plen + 1);
    json_t *plain_json = NULL;
    struct crypto_json_fast_spans sp = {"op", 2, 0, NULL, NULL, 0};
    if (pt == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (crypto_xchacha_open(pt, e + DFT_ENV_FIXED_BYTES, clen, e, DFT_ENV_HEAD_BYTES, e + 137,
                            k->seal_key) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope does not decrypt (tampered or foreign)");
        goto out;
    }
    /* every item is at least {"op":0,"salt_key":""} and a comma: a larger count is a lie, refused
     * before anything is sized by it (the same answer as a count the array does not match) */
    if (info->op_count > plen / ENVELOPE_ITEM_MIN_BYTES) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope content is malformed");
        goto out;
    }
    if (plain != NULL && (sp.off = malloc(info->op_count * sizeof *sp.off)) != NULL &&
        (sp.len = malloc(info->op_count * sizeof *sp.len)) != NULL) {
        sp.cap = info->op_count;
    }
    /* the fast path, locating each op; else (or where it declines) jansson's own reader */
    plain_json = crypto_json_parse_fast_ex((const char *)pt, plen, sp.cap > 0 ? &sp : NULL);
    if (plain_json == NULL) { /* declined: jansson's own reader, without a second fast try */
        json_error_t jerr;
        sp.canonical = 0;
        plain_json = json_loadb((const char *)pt, plen, JSON_REJECT_DUPLICATES, &jerr);
    }
    if (!json_is_array(plain_json) || json_array_size(plain_json) != info->op_count) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope content is malformed");
        goto out;
    }
    *items_out = plain_json;
    plain_json = NULL;
    if (plain != NULL) {
        *plain = (struct envelope_plain){pt, plen, sp.off, sp.len, sp.cap > 0 && sp.canonical};
        return DFT_OK;
    }
out:
    sodium_free(pt);
    free(sp.off);
    free(sp.len);
    json_decref(plain_json);
    return rc;
}

enum dft_err
envelope_open_parse(const struct dft_keys *k, const unsigned char *e, size_t n,
                    struct dft_envelope_info *info, json_t **items_out, struct dft_error *err)
{
    return envelope_open_parse_kept(k, e, n, info, items_out, NULL, err);
}

enum dft_err
envelope_open_hash(const json_t *items, const struct dft_envelope_info *info, size_t from,
                   size_t to, unsigned char *hashes, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct dft_buf scratch;
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    unsigned char key[DFT_SALT_KEY_BYTES];
    char author[dft_b64_len(DFT_SIGN_PK_BYTES)];
    dft_b64_encode(author, info->author, DFT_SIGN_PK_BYTES);
    for (size_t i = from; i < to; i++) {
        json_t *item = json_array_get(items, i);
        json_t *op = json_object_get(item, "op");
        const char *kb = json_string_value(json_object_get(item, "salt_key"));
        size_t kl = 0;
        if (!json_is_object(op) || json_object_size(item) != 2 || kb == NULL ||
            dft_b64_decode(key, sizeof key, &kl, kb, strlen(kb)) != DFT_OK ||
            kl != DFT_SALT_KEY_BYTES || !json_is_string(json_object_get(op, "author")) ||
            strcmp(json_string_value(json_object_get(op, "author")), author) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "envelope operation %zu is malformed", i);
            break;
        }
        rc = op_hash(hashes + i * DFT_HASH_BYTES, op, key, &scratch, err);
        if (rc != DFT_OK) {
            break;
        }
    }
    sodium_memzero(key, sizeof key);
    dft_buf_release(&scratch);
    return rc;
}

enum dft_err
envelope_open_root(const struct dft_envelope_info *info, const unsigned char *hashes,
                   struct dft_error *err)
{
    unsigned char root[DFT_HASH_BYTES];
    sd_tree_root(root, hashes, info->op_count);
    if (sodium_memcmp(root, info->sd_root, DFT_HASH_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "envelope content does not match its signed root");
    }
    return DFT_OK;
}

enum dft_err
envelope_open_items(const struct dft_keys *k, const unsigned char *e, size_t n, json_t **items_out,
                    struct dft_error *err)
{
    struct dft_envelope_info info;
    json_t *plain = NULL;
    enum dft_err rc = envelope_open_parse(k, e, n, &info, &plain, err);
    if (rc != DFT_OK) {
        return rc;
    }
    unsigned char *hashes = malloc((size_t)info.op_count * DFT_HASH_BYTES);
    if (hashes == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else if ((rc = envelope_open_hash(plain, &info, 0, info.op_count, hashes, err)) == DFT_OK &&
               (rc = envelope_open_root(&info, hashes, err)) == DFT_OK) {
        *items_out = plain;
        plain = NULL;
    }
    free(hashes);
    json_decref(plain);
    return rc;
}

enum dft_err
envelope_open(const struct dft_keys *k, const unsigned char *e, size_t n, json_t **ops_out,
              struct dft_error *err)
{
    json_t *items = NULL;
    enum dft_err rc = envelope_open_items(k, e, n, &items, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *ops = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
    {
        if (ops == NULL || json_array_append(ops, json_object_get(item, "op")) != 0) {
            json_decref(ops);
            json_decref(items);
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    json_decref(items);
    *ops_out = ops;
    return DFT_OK;
}

enum dft_err
sd_op_hash(unsigned char out[DFT_HASH_BYTES], const json_t *op,
           const unsigned char key[DFT_SALT_KEY_BYTES], struct dft_error *err)
{
    struct dft_buf b;
    dft_buf_init(&b, DFT_ENV_MAX, 0);
    enum dft_err rc = op_hash(out, op, key, &b, err);
    dft_buf_release(&b);
    return rc;
}
