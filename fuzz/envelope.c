/*
 * envelope.c - libFuzzer harness for envelopes: envelope_inspect and envelope_open with a
 * fixed key set.
 *
 * Each input is tried twice. As an envelope: it must be rejected cleanly, or open into operations
 * that seal again and reopen equal. As a plaintext: the harness signs a head for it (operation
 * count and root taken from the input where it parses) and encrypts it under the fixed seal key,
 * so mutations reach the JSON, salt and root checks behind the signature and the AEAD, which
 * random bytes never pass. Never writes anything but seeds.
 *
 * Seeds: DFT_FUZZ_SEED_DIR=fuzz/corpus/envelope build/fuzz/fuzz/envelope writes valid envelopes
 * sealed with the fixed keys (valid-N) and their plaintexts (plain-N) there and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/envelope.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static struct dft_keys *keys;
static char author[dft_b64_len(DFT_SIGN_PK_BYTES)];

static const char *const seed_ops[] = {
    "[{\"v\":1,\"id\":\"op_0\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"per_1\","
    "\"action\":\"create\",\"type\":\"person\",\"fields\":{\"name\":\"Ahtem \\u00c7iygoz\"}}]",
    "[{\"v\":1,\"id\":\"op_1\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"per_1\","
    "\"action\":\"update\",\"fields\":{\"aliases\":[\"\\u0410\",{\"x\":[1,true,null]}],"
    "\"note\":null}},"
    "{\"v\":1,\"id\":\"op_2\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"per_1\","
    "\"to\":\"case_1\",\"action\":\"link\",\"fields\":{\"link\":\"lnk_1\",\"role\":\"victim\"}},"
    "{\"v\":1,\"id\":\"op_3\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"record\":\"case_1\","
    "\"action\":\"delete\",\"fields\":{}}]",
};

/* Fill in the author as the vault does, then seal. */
static int
seal(json_t *ops, struct dft_buf *out)
{
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        json_object_set_new(op, "author", json_string(author));
    }
    return envelope_seal(keys, ops, out, NULL) == DFT_OK;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsigned char seed[crypto_sign_SEEDBYTES];
    if (sodium_init() < 0 || (keys = keys_new()) == NULL) {
        abort();
    }
    memset(keys->master, 0x42, sizeof keys->master);
    memset(seed, 0x17, sizeof seed);
    crypto_sign_seed_keypair(keys->sign_pk, keys->sign_sk, seed);
    keys_derive(keys);
    dft_b64_encode(author, keys->sign_pk, DFT_SIGN_PK_BYTES);
    const char *dir = getenv("DFT_FUZZ_SEED_DIR");
    if (dir == NULL) {
        return 0;
    }
    for (size_t s = 0; s < sizeof seed_ops / sizeof seed_ops[0]; s++) {
        json_t *ops = json_loads(seed_ops[s], 0, NULL);
        struct dft_buf env;
        dft_buf_init(&env, DFT_ENV_MAX, 0);
        char path[1024];
        snprintf(path, sizeof path, "%s/valid-%zu", dir, s);
        FILE *f = fopen(path, "wb");
        if (ops == NULL || !seal(ops, &env) || f == NULL ||
            fwrite(env.data, 1, env.len, f) != env.len) {
            abort();
        }
        fclose(f);
        /* and its plaintext, for the plaintext half of the harness */
        json_t *items = NULL;
        struct dft_buf pt;
        dft_buf_init(&pt, DFT_ENV_MAX, 0);
        snprintf(path, sizeof path, "%s/plain-%zu", dir, s);
        if (envelope_open_items(keys, env.data, env.len, &items, NULL) != DFT_OK ||
            json_canonical(items, &pt, NULL) != DFT_OK || (f = fopen(path, "wb")) == NULL ||
            fwrite(pt.data, 1, pt.len, f) != pt.len) {
            abort();
        }
        fclose(f);
        json_decref(items);
        dft_buf_release(&pt);
        dft_buf_release(&env);
        json_decref(ops);
    }
    exit(0);
}

/* An envelope that opened must round-trip through seal and open. */
static void
check_reseal(const json_t *ops)
{
    json_t *copy = json_deep_copy(ops);
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    json_t *back = NULL;
    if (copy == NULL || !seal(copy, &env) ||
        envelope_open(keys, env.data, env.len, &back, NULL) != DFT_OK || !json_equal(back, ops)) {
        abort();
    }
    json_decref(back);
    json_decref(copy);
    dft_buf_release(&env);
}

static void
try_envelope(const unsigned char *data, size_t size)
{
    struct dft_envelope_info info;
    enum dft_err irc = envelope_inspect(data, size, &info, NULL);
    json_t *ops = NULL;
    enum dft_err orc = envelope_open(keys, data, size, &ops, NULL);
    if (orc != DFT_OK) {
        if (ops != NULL ||
            (orc != DFT_ERR_INTEGRITY && orc != DFT_ERR_NOMEM && orc != DFT_ERR_TOO_LARGE)) {
            abort();
        }
        return;
    }
    if (irc != DFT_OK || json_array_size(ops) != info.op_count ||
        memcmp(info.author, keys->sign_pk, DFT_SIGN_PK_BYTES) != 0) {
        abort();
    }
    check_reseal(ops);
    json_decref(ops);
}

/* Sign a head over the plaintext's own root (when it has one) and encrypt it. */
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
    memcpy(e + 5, keys->sign_pk, DFT_SIGN_PK_BYTES);
    for (int b = 0; b < 4; b++) {
        e[37 + b] = (unsigned char)(n >> (24 - 8 * b));
        e[161 + b] = (unsigned char)((size + 16) >> (24 - 8 * b));
    }
    sd_tree_root(e + 41, hashes, n);
    memcpy(msg, domain, sizeof domain - 1);
    memcpy(msg + sizeof domain - 1, e, 73);
    crypto_sign_detached(e + 73, NULL, msg, sizeof msg, keys->sign_sk);
    memset(e + 137, 0x5c, 24); /* a fixed nonce is fine for a harness */
    crypto_aead_xchacha20poly1305_ietf_encrypt(e + DFT_ENV_FIXED_BYTES, NULL, data, size, e,
                                               DFT_ENV_HEAD_BYTES, NULL, e + 137, keys->seal_key);
    try_envelope(e, DFT_ENV_FIXED_BYTES + size + 16);
    free(e);
    free(hashes);
    json_decref(items);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    try_envelope(data, size);
    if (size < (1u << 20)) {
        try_plaintext(data, size);
    }
    return 0;
}
