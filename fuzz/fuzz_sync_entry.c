/*
 * fuzz_sync_entry.c - libFuzzer harness for wire entries of team sync: sync_entry_parse and
 * sync_entry_open (src/vault/sync.c) with a fixed keyring.
 *
 * Each input is tried twice. As a wire entry body: it must be rejected cleanly, or open into a
 * non-empty array of operations signed by the one key the harness knows. As a plaintext: the
 * harness wraps it in a valid entry (signed head over the plaintext's own root where it parses,
 * sealed under the collection key, or under a fresh key sealed to the drop key when the first
 * byte is odd), so mutations reach the JSON, salt, author and shape checks behind the signature
 * and the AEAD. Never writes anything but seeds.
 *
 * Seeds: DFT_FUZZ_SEED_DIR=fuzz/corpus/fuzz_sync_entry build/fuzz/fuzz/fuzz_sync_entry writes
 * valid entries of both modes there and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/envelope.h"
#include "vault/sync_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct dft_keys *signer, *scratch;
static struct dft_sync_keyring ring;
static char author[dft_b64_len(DFT_SIGN_PK_BYTES)];

static const char *const seed_ops[] = {
    "[{\"v\":1,\"id\":\"op_0\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"per_1\","
    "\"action\":\"create\",\"type\":\"person\",\"fields\":{\"name\":\"Ahtem\"},\"parents\":[]}]",
    "[{\"v\":1,\"id\":\"op_1\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"per_1\","
    "\"action\":\"update\",\"fields\":{\"name\":\"A\"},\"parents\":[\"op_0\"],"
    "\"seen\":{\"size\":3,\"root\":\"AAAA\"}},"
    "{\"v\":1,\"id\":\"op_2\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"per_1\","
    "\"to\":\"case_1\",\"action\":\"link\",\"fields\":{\"link\":\"lnk_1\",\"role\":\"victim\"},"
    "\"parents\":[\"op_1\"]}]",
};

/* An entry around envelope env (already sealed under key): epoch 1, mode, [sealed key]. */
static unsigned char *
wrap(const unsigned char *env, size_t n, int mode, const unsigned char key[32], size_t *out_len)
{
    size_t off = 5 + (mode ? SYNC_SEALED_K_BYTES : 0);
    unsigned char *b = malloc(off + n);
    if (b == NULL) {
        abort();
    }
    dft_be_put(b, 1, 4);
    b[4] = (unsigned char)mode;
    if (mode) {
        crypto_box_seal(b + 5, key, 32, ring.epochs[0].drop_pk);
    }
    memcpy(b + off, env, n);
    *out_len = off + n;
    return b;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsigned char seed[crypto_sign_SEEDBYTES];
    if (sodium_init() < 0 || (signer = keys_new()) == NULL || (scratch = keys_new()) == NULL) {
        abort();
    }
    memset(seed, 0x17, sizeof seed);
    crypto_sign_seed_keypair(signer->sign_pk, signer->sign_sk, seed);
    dft_b64_encode(author, signer->sign_pk, DFT_SIGN_PK_BYTES);
    ring.count = 1;
    ring.epochs = sodium_malloc(sizeof *ring.epochs);
    if (ring.epochs == NULL) {
        abort();
    }
    memset(ring.epochs, 0, sizeof *ring.epochs);
    ring.epochs->epoch = 1;
    ring.epochs->has_secret = 1;
    memset(ring.epochs->ck, 0x42, 32);
    memset(seed, 0x23, sizeof seed);
    crypto_box_seed_keypair(ring.epochs->drop_pk, ring.epochs->drop_sk, seed);
    const char *dir = getenv("DFT_FUZZ_SEED_DIR");
    if (dir == NULL) {
        return 0;
    }
    for (size_t s = 0; s < sizeof seed_ops / sizeof seed_ops[0]; s++) {
        for (int mode = 0; mode < 2; mode++) {
            json_t *ops = json_loads(seed_ops[s], 0, NULL);
            size_t i;
            json_t *op;
            json_array_foreach(ops, i, op)
            {
                json_object_set_new(op, "author", json_string(author));
            }
            unsigned char k[32];
            randombytes_buf(k, sizeof k);
            memcpy(signer->seal_key, mode ? k : ring.epochs->ck, 32);
            struct dft_buf env;
            dft_buf_init(&env, DFT_ENV_MAX, 0);
            size_t n = 0;
            char path[1024];
            snprintf(path, sizeof path, "%s/valid-%zu-%d", dir, s, mode);
            FILE *f = fopen(path, "wb");
            if (ops == NULL || envelope_seal(signer, ops, &env, NULL) != DFT_OK || f == NULL) {
                abort();
            }
            unsigned char *b = wrap(env.data, env.len, mode, k, &n);
            if (fwrite(b, 1, n, f) != n) {
                abort();
            }
            fclose(f);
            free(b);
            dft_buf_release(&env);
            json_decref(ops);
        }
    }
    exit(0);
}

static void
try_entry(const unsigned char *data, size_t size)
{
    uint32_t epoch = 0;
    int mode = 0;
    size_t off = 0;
    enum dft_err prc = sync_entry_parse(data, size, &epoch, &mode, &off, NULL);
    json_t *ops = NULL;
    unsigned char who[32], head[32];
    enum dft_err rc = sync_entry_open(scratch, data, size, &ring, NULL, &ops, who, head, NULL);
    if (rc != DFT_OK) {
        if (ops != NULL ||
            (rc != DFT_ERR_INTEGRITY && rc != DFT_ERR_NOMEM && rc != DFT_ERR_TOO_LARGE)) {
            abort();
        }
        return;
    }
    if (prc != DFT_OK || off > size || !json_is_array(ops) || json_array_size(ops) == 0 ||
        memcmp(who, signer->sign_pk, 32) != 0) {
        abort();
    }
    json_decref(ops);
}

/* Sign a head over the plaintext's own root (when it has one) and seal it into an entry. */
static void
try_plaintext(const unsigned char *data, size_t size)
{
    json_t *items = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    size_t n = json_is_array(items) && json_array_size(items) > 0 ? json_array_size(items) : 1;
    unsigned char *hashes = calloc(n, DFT_HASH_BYTES);
    unsigned char *e = malloc(DFT_ENV_FIXED_BYTES + size + 16);
    if (hashes == NULL || e == NULL) {
        abort();
    }
    for (size_t i = 0; json_is_array(items) && i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        const char *kb = json_string_value(json_object_get(it, "salt_key"));
        unsigned char key[DFT_SALT_KEY_BYTES];
        size_t kl = 0;
        if (kb != NULL && dft_b64_decode(key, sizeof key, &kl, kb, strlen(kb)) == DFT_OK &&
            kl == sizeof key) {
            (void)sd_op_hash(hashes + i * DFT_HASH_BYTES, json_object_get(it, "op"), key, NULL);
        }
    }
    static const char domain[] = "defter/envelope/v1\n";
    unsigned char msg[sizeof domain - 1 + 73];
    memcpy(e, DFT_ENV_MAGIC, 4);
    e[4] = DFT_ENV_VERSION;
    memcpy(e + 5, signer->sign_pk, DFT_SIGN_PK_BYTES);
    dft_be_put(e + 37, n, 4);
    dft_be_put(e + 161, size + 16, 4);
    sd_tree_root(e + 41, hashes, n);
    memcpy(msg, domain, sizeof domain - 1);
    memcpy(msg + sizeof domain - 1, e, 73);
    crypto_sign_detached(e + 73, NULL, msg, sizeof msg, signer->sign_sk);
    memset(e + 137, 0x5c, 24); /* a fixed nonce is fine for a harness */
    int mode = size > 0 && (data[0] & 1);
    unsigned char k[32];
    memset(k, 0x61, sizeof k);
    crypto_aead_xchacha20poly1305_ietf_encrypt(e + DFT_ENV_FIXED_BYTES, NULL, data, size, e,
                                               DFT_ENV_HEAD_BYTES, NULL, e + 137,
                                               mode ? k : ring.epochs->ck);
    size_t bn = 0;
    unsigned char *b = wrap(e, DFT_ENV_FIXED_BYTES + size + 16, mode, k, &bn);
    try_entry(b, bn);
    free(b);
    free(e);
    free(hashes);
    json_decref(items);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    try_entry(data, size);
    if (size < (1u << 20)) {
        try_plaintext(data, size);
    }
    return 0;
}
