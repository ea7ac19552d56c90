/*
 * gcm.c - AES-256-GCM contexts keyed once (gcm.h), and OpenSSL's memory in the secure pool.
 *
 * Must never report success for a message whose tag did not verify. The constructor below runs
 * before main, before OpenSSL allocates anything, so every OpenSSL allocation (cipher key
 * schedules, GHASH tables, digest and HMAC states) lives in wiped, locked, non-dumpable memory.
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto/gcm.h"
#include "crypto/secpool.h"

static void *
ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return n == 0 ? NULL : crypto_secpool_alloc(n);
}

static void *
ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    if (n == 0) {
        crypto_secpool_free(p);
        return NULL;
    }
    return crypto_secpool_realloc(p, n);
}

static void
ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    crypto_secpool_free(p);
}

__attribute__((constructor)) static void
install_openssl_memory(void)
{
    /* fails (harmlessly) only if OpenSSL allocated before: then it keeps its own malloc */
    (void)CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
}

EVP_CIPHER_CTX *
crypto_gcm_new(const unsigned char key[CRYPTO_GCM_KEY_BYTES], int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NULL;
    }
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_GCM_NONCE_BYTES, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void
crypto_gcm_free(EVP_CIPHER_CTX *ctx)
{
    EVP_CIPHER_CTX_free(ctx);
}

int
crypto_gcm_seal(EVP_CIPHER_CTX *ctx, unsigned char *out, unsigned char tag[CRYPTO_GCM_TAG_BYTES],
                const unsigned char *in, size_t n,
                const unsigned char nonce[CRYPTO_GCM_NONCE_BYTES], const unsigned char *ad,
                size_t ad_len)
{
    int len = 0;
    if (n > INT_MAX || ad_len > INT_MAX ||
        EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 1) != 1) {
        return -1;
    }
    if (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &len, ad, (int)ad_len) != 1) {
        return -1;
    }
    if (n > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1) {
        return -1;
    }
    if (EVP_CipherFinal_ex(ctx, out + n, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_BYTES, tag) != 1) {
        return -1;
    }
    return 0;
}

int
crypto_gcm_open(EVP_CIPHER_CTX *ctx, unsigned char *out,
                const unsigned char tag[CRYPTO_GCM_TAG_BYTES], const unsigned char *in, size_t n,
                const unsigned char nonce[CRYPTO_GCM_NONCE_BYTES], const unsigned char *ad,
                size_t ad_len)
{
    unsigned char t[CRYPTO_GCM_TAG_BYTES];
    unsigned char end[16];
    int len = 0;
    memcpy(t, tag, sizeof t); /* tag may sit in the buffer being decrypted in place */
    if (n > INT_MAX || ad_len > INT_MAX ||
        EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 0) != 1) {
        return -1;
    }
    if (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &len, ad, (int)ad_len) != 1) {
        return -1;
    }
    if (n > 0 && EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1) {
        return -1;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_BYTES, t) != 1 ||
        EVP_CipherFinal_ex(ctx, end, &len) <= 0) {
        return -1;
    }
    return 0;
}
