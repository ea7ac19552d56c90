/*
 * gcm.h - AES-256-GCM for bulk data (database pages, evidence chunks and pads) through OpenSSL
 * (AES-NI and carry-less multiply). Internal to the library (no dft_ prefix).
 *
 * A context is keyed once (the key schedule and GHASH key are computed once per connection or
 * object) and then seals or opens any number of messages, each with its own 12-byte nonce.
 * Every OpenSSL allocation of the process, these contexts' key schedules included, comes from
 * the wiped, non-dumpable pool of crypto/secpool.c (installed before main by this file).
 */
#ifndef DEFTER_CRYPTO_GCM_H
#define DEFTER_CRYPTO_GCM_H

#include <stddef.h>

#include <openssl/evp.h>

#define CRYPTO_GCM_KEY_BYTES   32
#define CRYPTO_GCM_NONCE_BYTES 12
#define CRYPTO_GCM_TAG_BYTES   16

/* A context keyed with key for sealing (enc 1) or opening (enc 0); NULL on failure. */
EVP_CIPHER_CTX *crypto_gcm_new(const unsigned char key[CRYPTO_GCM_KEY_BYTES], int enc);
/* Free a context; OpenSSL cleanses the key schedule and the pool wipes it. NULL allowed. */
void crypto_gcm_free(EVP_CIPHER_CTX *ctx);

/*
 * Seal n bytes of in into out (may be the same buffer) and write the tag to tag (which may be
 * out + n). ad may be NULL when ad_len is 0. 0, or -1 when OpenSSL fails.
 */
int crypto_gcm_seal(EVP_CIPHER_CTX *ctx, unsigned char *out,
                    unsigned char tag[CRYPTO_GCM_TAG_BYTES], const unsigned char *in, size_t n,
                    const unsigned char nonce[CRYPTO_GCM_NONCE_BYTES], const unsigned char *ad,
                    size_t ad_len);

/*
 * Open n bytes of in into out (may be the same buffer) against tag. 0 when authentic; -1
 * otherwise, and then out holds unauthenticated bytes the caller must wipe, never use.
 */
int crypto_gcm_open(EVP_CIPHER_CTX *ctx, unsigned char *out,
                    const unsigned char tag[CRYPTO_GCM_TAG_BYTES], const unsigned char *in,
                    size_t n, const unsigned char nonce[CRYPTO_GCM_NONCE_BYTES],
                    const unsigned char *ad, size_t ad_len);

#endif
