/*
 * keys.c - library initialisation, the key set, subkey derivation, SHA-256, KDF levels.
 *
 * Keys live only in sodium_malloc memory; this file never copies them to the stack.
 */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "defter/crypto.h"

enum dft_err
dft_crypto_init(struct dft_error *err)
{
    if (sodium_init() < 0) {
        return dft_fail(err, DFT_ERR_CRYPTO, "cannot initialise libsodium");
    }
    return DFT_OK;
}

struct dft_keys *
keys_new(void)
{
    struct dft_keys *k = sodium_malloc(sizeof *k);
    if (k != NULL) {
        sodium_memzero(k, sizeof *k);
    }
    return k;
}

void
keys_derive(struct dft_keys *k)
{
    static const char ctx[crypto_kdf_CONTEXTBYTES] = {'d', 'e', 'f', 't', 'e', 'r', '0', '1'};
    crypto_kdf_derive_from_key(k->page_key, sizeof k->page_key, 1, ctx, k->master);
    crypto_kdf_derive_from_key(k->seal_key, sizeof k->seal_key, 2, ctx, k->master);
    crypto_kdf_derive_from_key(k->dedup_key, sizeof k->dedup_key, 3, ctx, k->master);
    crypto_kdf_derive_from_key(k->object_key, sizeof k->object_key, 4, ctx, k->master);
    crypto_kdf_derive_from_key(k->state_key, sizeof k->state_key, 5, ctx, k->master);
}

void
keys_free(struct dft_keys *k)
{
    if (k != NULL) {
        sodium_free(k); /* wipes */
    }
}

void
crypto_sha256_once(unsigned char out[DFT_HASH_BYTES], const void *p, size_t n)
{
    crypto_sha256_parts(out, p, n, NULL, 0); /* hash.c: one OpenSSL context per thread */
}

void
crypto_sha256_pair(unsigned char out[DFT_HASH_BYTES], const void *a, size_t an, const void *b,
                   size_t bn)
{
    crypto_sha256_parts(out, a, an, b, bn);
}

void
dft_kdf_limits(enum dft_kdf_level level, uint64_t *opslimit, uint64_t *memlimit)
{
    switch (level) {
    case DFT_KDF_INTERACTIVE:
        *opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        return;
    case DFT_KDF_SENSITIVE:
        *opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
        return;
    case DFT_KDF_MODERATE:
        break;
    }
    *opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
    *memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
}

enum dft_err
dft_kdf_parse(const char *name, enum dft_kdf_level *out)
{
    if (strcmp(name, "interactive") == 0) {
        *out = DFT_KDF_INTERACTIVE;
    } else if (strcmp(name, "moderate") == 0) {
        *out = DFT_KDF_MODERATE;
    } else if (strcmp(name, "sensitive") == 0) {
        *out = DFT_KDF_SENSITIVE;
    } else {
        return DFT_ERR_USAGE;
    }
    return DFT_OK;
}
