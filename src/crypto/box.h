/*
 * box.h - sealed boxes: a message sealed to one X25519 public key (libsodium crypto_box_seal).
 *
 * Internal to the library. Used for privileged notes (src/vault/privileged.c): anyone may seal
 * to a public key, only the holder of its secret key opens. Never logs message or key.
 */
#ifndef DEFTER_CRYPTO_BOX_H
#define DEFTER_CRYPTO_BOX_H

#include <stddef.h>

#include "defter/core.h"
#include "defter/crypto.h"

/* Bytes a sealed box adds to its message (crypto_box_SEALBYTES, 48). */
size_t crypto_box_seal_overhead(void);

/* Seal msg (n bytes) to pk; out holds n + crypto_box_seal_overhead() bytes. */
enum dft_err crypto_box_seal_to(unsigned char *out, const unsigned char *msg, size_t n,
                                const unsigned char pk[DFT_BOX_PK_BYTES],
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * Open a box of n bytes sealed to pk with its secret key sk into out (n - overhead bytes, which
 * the caller keeps in wiped memory). DFT_ERR_CRYPTO when it was not sealed to this key or was
 * changed.
 */
enum dft_err crypto_box_open_sealed(unsigned char *out, const unsigned char *box, size_t n,
                                    const unsigned char pk[DFT_BOX_PK_BYTES],
                                    const unsigned char sk[DFT_BOX_SK_BYTES],
                                    struct dft_error *err) DFT_MUST_CHECK;

/* A fresh random key of DFT_KEY_BYTES (randombytes_buf). */
void crypto_random_key(unsigned char key[DFT_KEY_BYTES]);

#endif
