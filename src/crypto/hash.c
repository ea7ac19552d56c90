/*
 * hash.c - streaming SHA-256, HMAC-SHA-256 and the RFC 9162 leaf and node hashes.
 */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "crypto/hash.h"
#include "crypto/sha256.h"

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
