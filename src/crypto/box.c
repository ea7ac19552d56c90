/*
 * box.c - sealed boxes to an X25519 key (libsodium crypto_box_seal: an ephemeral X25519 key,
 * XSalsa20-Poly1305). Never keeps a copy of the message or the keys.
 */
#include <sodium.h>

#include "crypto/box.h"

size_t
crypto_box_seal_overhead(void)
{
    return crypto_box_SEALBYTES;
}

enum dft_err
crypto_box_seal_to(unsigned char *out, const unsigned char *msg, size_t n,
                   const unsigned char pk[DFT_BOX_PK_BYTES], struct dft_error *err)
{
    if (crypto_box_seal(out, msg, (unsigned long long)n, pk) != 0) {
        return dft_fail(err, DFT_ERR_CRYPTO, "cannot seal to this key");
    }
    return DFT_OK;
}

enum dft_err
crypto_box_open_sealed(unsigned char *out, const unsigned char *box, size_t n,
                       const unsigned char pk[DFT_BOX_PK_BYTES],
                       const unsigned char sk[DFT_BOX_SK_BYTES], struct dft_error *err)
{
    if (n < crypto_box_SEALBYTES ||
        crypto_box_seal_open(out, box, (unsigned long long)n, pk, sk) != 0) {
        return dft_fail(err, DFT_ERR_CRYPTO, "the sealed box does not open with this key");
    }
    return DFT_OK;
}

void
crypto_random_key(unsigned char key[DFT_KEY_BYTES])
{
    randombytes_buf(key, DFT_KEY_BYTES);
}
