/*
 * hash.c - streaming SHA-256, HMAC-SHA-256 and the RFC 9162 leaf and node hashes.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "crypto/hash.h"

/*
 * One-shot SHA-256 through one OpenSSL context per thread, fetched and allocated once: SHA-NI
 * where the CPU has it, without OpenSSL's per-call fetch and allocation (EVP_Digest) that made
 * libsodium's portable code the faster choice for the short inputs of envelopes and trees. The
 * context is freed when its thread ends; OpenSSL wipes its data block at each final. Without a
 * context (no memory), libsodium computes the same digest.
 */
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha_md;
static pthread_key_t sha_key;
static int sha_key_ok;

static void
sha_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void
sha_setup(void)
{
    sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    sha_key_ok = pthread_key_create(&sha_key, sha_ctx_free) == 0;
}

static EVP_MD_CTX *
sha_ctx(void)
{
    (void)pthread_once(&sha_once, sha_setup);
    if (sha_md == NULL || !sha_key_ok) {
        return NULL;
    }
    EVP_MD_CTX *c = pthread_getspecific(sha_key);
    if (c == NULL) {
        c = EVP_MD_CTX_new();
        if (c != NULL && pthread_setspecific(sha_key, c) != 0) {
            EVP_MD_CTX_free(c);
            c = NULL;
        }
    }
    return c;
}

void
crypto_sha256_parts(unsigned char out[DFT_HASH_BYTES], const void *a, size_t an, const void *b,
                    size_t bn)
{
    EVP_MD_CTX *c = sha_ctx();
    unsigned int len = 0;
    if (c != NULL && EVP_DigestInit_ex2(c, sha_md, NULL) == 1 && EVP_DigestUpdate(c, a, an) == 1 &&
        (bn == 0 || EVP_DigestUpdate(c, b, bn) == 1) && EVP_DigestFinal_ex(c, out, &len) == 1 &&
        len == DFT_HASH_BYTES) {
        return;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, a, an);
    crypto_hash_sha256_update(&st, b, bn);
    crypto_hash_sha256_final(&st, out);
}

enum dft_err
crypto_sha256_init(struct crypto_sha256 *h, struct dft_error *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        h->ctx = NULL;
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        h->ctx = NULL;
        return dft_fail(err, DFT_ERR_CRYPTO, "cannot start SHA-256");
    }
    h->ctx = ctx;
    return DFT_OK;
}

void
crypto_sha256_update(struct crypto_sha256 *h, const void *p, size_t n)
{
    /* EVP_DigestUpdate on an initialised SHA-256 context cannot fail. */
    if (EVP_DigestUpdate(h->ctx, p, n) != 1) {
        DFT_ASSERT(0 && "EVP_DigestUpdate failed");
    }
}

void
crypto_sha256_final(struct crypto_sha256 *h, unsigned char out[DFT_HASH_BYTES])
{
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != DFT_HASH_BYTES ||
        EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        DFT_ASSERT(0 && "EVP_DigestFinal_ex failed");
    }
}

void
crypto_sha256_release(struct crypto_sha256 *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void
crypto_hmac_sha256(unsigned char out[DFT_HASH_BYTES], const unsigned char *key, size_t key_len,
                   const void *msg, size_t msg_len)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, msg, msg_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void
crypto_leaf_hash(unsigned char out[DFT_HASH_BYTES], const void *data, size_t len)
{
    static const unsigned char prefix = 0x00;
    crypto_sha256_pair(out, &prefix, 1, data, len);
}

void
crypto_node_hash(unsigned char out[DFT_HASH_BYTES], const unsigned char left[DFT_HASH_BYTES],
                 const unsigned char right[DFT_HASH_BYTES])
{
    unsigned char buf[1 + 2 * DFT_HASH_BYTES];
    buf[0] = 0x01;
    memcpy(buf + 1, left, DFT_HASH_BYTES);
    memcpy(buf + 1 + DFT_HASH_BYTES, right, DFT_HASH_BYTES);
    crypto_sha256_parts(out, buf, sizeof buf, NULL, 0);
}
