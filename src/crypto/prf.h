/*
 * prf.h - a keyed pseudo-random function (keyed BLAKE2b through libsodium), for short masks
 * and derived keys. Internal to the library (no dft_ prefix).
 */
#ifndef DEFTER_CRYPTO_PRF_H
#define DEFTER_CRYPTO_PRF_H

#include <stddef.h>

#define CRYPTO_PRF_KEY_BYTES 32
#define CRYPTO_PRF_MAX_BYTES 64

/*
 * out (out_len bytes, 1..CRYPTO_PRF_MAX_BYTES) = first out_len bytes of
 * BLAKE2b-512(key, label ‖ 0x00 ‖ in). label separates uses of one key; in may be NULL when
 * in_len is 0.
 */
void crypto_prf(unsigned char *out, size_t out_len, const unsigned char key[CRYPTO_PRF_KEY_BYTES],
                const char *label, const void *in, size_t in_len);

#endif
