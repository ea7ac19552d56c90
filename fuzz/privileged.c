/*
 * privileged.c - libFuzzer harness for sealed privileged notes (src/vault/privileged.c and
 * sealed.c): the "sealed" object of an operation and the box's plaintext, with a fixed key set.
 *
 * Each input is tried twice. As an operation (JSON): privileged_digests and privileged_open_op
 * must reject it cleanly or open it. As a box plaintext: the harness seals the input to the fixed
 * box key and lists as digests those of the fields it holds (where it parses), so mutations reach
 * the JSON, record, salt key and digest checks behind the box, which random bytes never open.
 * What opens must name the operation's record and reproduce its digests. Never writes a file.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "vault/envelope.h"
#include "vault/privileged.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct dft_keys *keys;
static char to_b64[dft_b64_len(DFT_BOX_PK_BYTES)];

static void
init(void)
{
    unsigned char seed[crypto_box_SEEDBYTES];
    if (sodium_init() < 0 || (keys = keys_new()) == NULL) {
        abort();
    }
    memset(seed, 0x29, sizeof seed);
    crypto_box_seed_keypair(keys->box_pk, keys->box_sk, seed);
    dft_b64_encode(to_b64, keys->box_pk, DFT_BOX_PK_BYTES);
}

static void
try_op(const json_t *op)
{
    unsigned char *d = NULL;
    size_t n = 0;
    enum dft_err rc = privileged_digests(json_object_get(op, "fields"), &d, &n, NULL);
    if (rc != DFT_OK && rc != DFT_ERR_INTEGRITY && rc != DFT_ERR_NOMEM) {
        abort();
    }
    if (rc != DFT_OK && (d != NULL || n != 0)) {
        abort();
    }
    free(d);
    json_t *fields = NULL;
    unsigned char key[DFT_KEY_BYTES];
    rc = privileged_open_op(keys, op, &fields, key, NULL);
    if (rc != DFT_OK) {
        if (fields != NULL ||
            (rc != DFT_ERR_INTEGRITY && rc != DFT_ERR_NOMEM && rc != DFT_ERR_TOO_LARGE)) {
            abort();
        }
        return;
    }
    if (fields != NULL && !json_is_object(fields)) {
        abort();
    }
    json_decref(fields);
}

/* The digests of the fields of a plaintext {"fields","record","salt_key"}, as the seal makes. */
static json_t *
digests_of(const json_t *inner)
{
    json_t *out = json_array();
    const json_t *fields = json_object_get(inner, "fields");
    const char *kb = json_string_value(json_object_get(inner, "salt_key"));
    unsigned char key[DFT_KEY_BYTES];
    size_t kl = 0;
    if (!json_is_object(fields) || kb == NULL ||
        dft_b64_decode(key, sizeof key, &kl, kb, strlen(kb)) != DFT_OK || kl != sizeof key) {
        return out;
    }
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)fields, k, val)
    {
        char name[128];
        unsigned char salt[DFT_SALT_BYTES], h[DFT_HASH_BYTES];
        char b64[dft_b64_len(DFT_HASH_BYTES)];
        if (strlen(k) + 8 > sizeof name) {
            continue;
        }
        memcpy(name, "fields/", 7);
        memcpy(name + 7, k, strlen(k) + 1);
        sd_item_salt(salt, key, name);
        if (sd_item_digest(h, salt, name, val, NULL) == DFT_OK) {
            dft_b64_encode(b64, h, sizeof h);
            json_array_append_new(out, json_string(b64));
        }
    }
    return out;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static void
try_plaintext(const unsigned char *data, size_t size)
{
    unsigned char *box = malloc(size + crypto_box_SEALBYTES);
    char *box_b64 = malloc(dft_b64_len(size + crypto_box_SEALBYTES));
    if (box == NULL || box_b64 == NULL || crypto_box_seal(box, data, size, keys->box_pk) != 0) {
        abort();
    }
    dft_b64_encode(box_b64, box, size + crypto_box_SEALBYTES);
    json_t *inner = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *digests = digests_of(inner);
    /* sorted, as the seal writes them */
    size_t n = json_array_size(digests);
    json_t **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v != NULL && i < n; i++) {
        v[i] = json_incref(json_array_get(digests, i));
    }
    if (v != NULL) {
        qsort(v, n, sizeof *v, cmp_str);
        json_array_clear(digests);
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(digests, v[i]);
        }
    }
    free(v);
    const char *rec = json_string_value(json_object_get(inner, "record"));
    json_t *op = json_pack("{sss{sbs{sisssssO}}}", "record", rec != NULL ? rec : "note_1", "fields",
                           "privileged", 1, "sealed", "v", 1, "to", to_b64, "box", box_b64,
                           "digests", digests);
    if (op != NULL) {
        try_op(op);
    }
    json_decref(op);
    json_decref(digests);
    json_decref(inner);
    free(box);
    free(box_b64);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (keys == NULL) {
        init();
    }
    json_t *op = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (op != NULL) {
        try_op(op);
        json_decref(op);
    }
    if (size < (1u << 16)) {
        try_plaintext(data, size);
    }
    return 0;
}
