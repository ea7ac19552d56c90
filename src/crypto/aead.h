/*
 * aead.h - XChaCha20-Poly1305 (libsodium) for small sealed items: header key wraps, envelopes,
 * the sealed log state. Internal to the library (no dft_ prefix).
 *
 * Bulk data (database pages, evidence chunks) uses AES-256-GCM through the page and chunk
 * ciphers of this directory; libsodium's AEAD is called from src/crypto/ only.
 */
#ifndef DEFTER_CRYPTO_AEAD_H
#define DEFTER_CRYPTO_AEAD_H

#include <stddef.h>

#include "defter/core.h"

#define CRYPTO_XCHACHA_KEY_BYTES   32
#define CRYPTO_XCHACHA_NONCE_BYTES 24
#define CRYPTO_XCHACHA_TAG_BYTES   16

/* A fresh random nonce (randombytes_buf). */
void crypto_xchacha_nonce(unsigned char nonce[CRYPTO_XCHACHA_NONCE_BYTES]);

/*
 * Seal msg (msg_len bytes) into out, which holds msg_len + CRYPTO_XCHACHA_TAG_BYTES bytes
 * (ciphertext then tag). ad may be NULL when ad_len is 0. out may equal msg (in place).
 */
void crypto_xchacha_seal(unsigned char *out, const unsigned char *msg, size_t msg_len,
                         const unsigned char *ad, size_t ad_len,
                         const unsigned char nonce[CRYPTO_XCHACHA_NONCE_BYTES],
                         const unsigned char key[CRYPTO_XCHACHA_KEY_BYTES]);

/*
 * Open sealed (sealed_len bytes, ciphertext then tag) into out (sealed_len - tag bytes).
 * DFT_ERR_CRYPTO, out wiped, when the tag does not authenticate; no message is set, so the
 * caller says what failed (wrong passphrase, damaged envelope...).
 */
enum dft_err crypto_xchacha_open(unsigned char *out, const unsigned char *sealed, size_t sealed_len,
                                 const unsigned char *ad, size_t ad_len,
                                 const unsigned char nonce[CRYPTO_XCHACHA_NONCE_BYTES],
                                 const unsigned char key[CRYPTO_XCHACHA_KEY_BYTES]) DFT_MUST_CHECK;

#endif
