/*
 * aead.c - XChaCha20-Poly1305 through libsodium, for small sealed items.
 */
#include <sodium.h>

#include "crypto/aead.h"

_Static_assert(CRYPTO_XCHACHA_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key");
_Static_assert(CRYPTO_XCHACHA_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(CRYPTO_XCHACHA_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag");

void
crypto_xchacha_nonce(unsigned char nonce[CRYPTO_XCHACHA_NONCE_BYTES])
{
    randombytes_buf(nonce, CRYPTO_XCHACHA_NONCE_BYTES);
}

void
crypto_xchacha_seal(unsigned char *out, const unsigned char *msg, size_t msg_len,
                    const unsigned char *ad, size_t ad_len,
                    const unsigned char nonce[CRYPTO_XCHACHA_NONCE_BYTES],
                    const unsigned char key[CRYPTO_XCHACHA_KEY_BYTES])
{
    unsigned long long out_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out, &out_len, msg, msg_len, ad, ad_len, NULL, nonce,
                                               key);
}

enum dft_err
crypto_xchacha_open(unsigned char *out, const unsigned char *sealed, size_t sealed_len,
                    const unsigned char *ad, size_t ad_len,
                    const unsigned char nonce[CRYPTO_XCHACHA_NONCE_BYTES],
                    const unsigned char key[CRYPTO_XCHACHA_KEY_BYTES])
{
    if (sealed_len < CRYPTO_XCHACHA_TAG_BYTES) {
        return DFT_ERR_CRYPTO;
    }
    unsigned long long out_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &out_len, NULL, sealed, sealed_len, ad,
                                                   ad_len, nonce, key) != 0) {
        sodium_memzero(out, sealed_len - CRYPTO_XCHACHA_TAG_BYTES);
        return DFT_ERR_CRYPTO;
    }
    return DFT_OK;
}
