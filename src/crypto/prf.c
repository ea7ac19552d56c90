/*
 * prf.c - crypto_prf: keyed BLAKE2b (libsodium crypto_generichash). Wipes its state.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/prf.h"
#include "defter/core.h"

void
crypto_prf(unsigned char *out, size_t out_len, const unsigned char key[CRYPTO_PRF_KEY_BYTES],
           const char *label, const void *in, size_t in_len)
{
    crypto_generichash_state st;
    unsigned char full[CRYPTO_PRF_MAX_BYTES];
    DFT_ASSERT(out_len >= 1 && out_len <= sizeof full);
    crypto_generichash_init(&st, key, CRYPTO_PRF_KEY_BYTES, sizeof full);
    crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
    if (in_len > 0) {
        crypto_generichash_update(&st, in, in_len);
    }
    crypto_generichash_final(&st, full, sizeof full);
    memcpy(out, full, out_len);
    sodium_memzero(full, sizeof full);
    sodium_memzero(&st, sizeof st);
}
