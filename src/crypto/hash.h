/*
 * hash.h - SHA-256 (one-shot, two-piece, streaming), HMAC-SHA-256 and the RFC 9162 tree hashes.
 *
 * Internal to the library (no dft_ prefix). The only place besides aead.c that includes OpenSSL:
 * other layers hash through these functions, so a primitive changes in one place.
 */
#ifndef DEFTER_CRYPTO_HASH_H
#define DEFTER_CRYPTO_HASH_H

#include <stddef.h>

#include "defter/core.h"
#include "defter/crypto.h"

/* A streaming SHA-256 (OpenSSL EVP, SHA-NI where the CPU has it). */
struct crypto_sha256 {
    void *ctx; /* EVP_MD_CTX */
};

/* DFT_ERR_NOMEM when OpenSSL cannot allocate its context. */
enum dft_err crypto_sha256_init(struct crypto_sha256 *h, struct dft_error *err) DFT_MUST_CHECK;
void crypto_sha256_update(struct crypto_sha256 *h, const void *p, size_t n);
/* Writes the digest and resets the context for reuse. */
void crypto_sha256_final(struct crypto_sha256 *h, unsigned char out[DFT_HASH_BYTES]);
/* Frees the context; a released or zeroed struct may be released again. */
void crypto_sha256_release(struct crypto_sha256 *h);

/* SHA-256(a ‖ b) in one call (b may be NULL with bn 0); the one-shot hash of the library. */
void crypto_sha256_parts(unsigned char out[DFT_HASH_BYTES], const void *a, size_t an, const void *b,
                         size_t bn);

/* HMAC-SHA-256 of msg under key (libsodium's crypto_auth_hmacsha256). */
void crypto_hmac_sha256(unsigned char out[DFT_HASH_BYTES], const unsigned char *key, size_t key_len,
                        const void *msg, size_t msg_len);

/* RFC 9162 leaf hash: SHA-256(0x00 || data). The one place it is computed. */
void crypto_leaf_hash(unsigned char out[DFT_HASH_BYTES], const void *data, size_t len);
/* RFC 9162 interior node hash: SHA-256(0x01 || left || right). */
void crypto_node_hash(unsigned char out[DFT_HASH_BYTES], const unsigned char left[DFT_HASH_BYTES],
                      const unsigned char right[DFT_HASH_BYTES]);

#endif
