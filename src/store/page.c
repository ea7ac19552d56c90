/*
 * page.c - AES-256-GCM encryption and authentication of single database pages.
 *
 * Pure functions over caller buffers: no I/O, no SQLite. Must never hand back plaintext of a
 * page that failed authentication, and never reuse a nonce on purpose (each encryption draws 12
 * random bytes from libsodium).
 */
#include <string.h>

#include <sodium.h>

#include "store/page.h"

void
page_ad_main(struct dft_page_ad *ad, const unsigned char vault_id[DFT_VAULT_ID_BYTES],
             uint32_t pgno)
{
    memcpy(ad->b, vault_id, DFT_VAULT_ID_BYTES);
    ad->b[DFT_VAULT_ID_BYTES] = DFT_PAGE_KIND_MAIN;
    dft_be_put(ad->b + DFT_VAULT_ID_BYTES + 1, pgno, 4);
    ad->len = DFT_VAULT_ID_BYTES + 1 + 4;
}

void
page_ad_wal(struct dft_page_ad *ad, const unsigned char vault_id[DFT_VAULT_ID_BYTES],
            const unsigned char hdr[DFT_WAL_FRAME_HDR_BYTES], const unsigned char salts[8],
            uint32_t frame)
{
    memcpy(ad->b, vault_id, DFT_VAULT_ID_BYTES);
    ad->b[DFT_VAULT_ID_BYTES] = DFT_PAGE_KIND_WAL;
    memcpy(ad->b + DFT_VAULT_ID_BYTES + 1, hdr, 8);
    memcpy(ad->b + DFT_VAULT_ID_BYTES + 1 + 8, salts, 8);
    dft_be_put(ad->b + DFT_VAULT_ID_BYTES + 1 + 16, frame, 4);
    ad->len = DFT_VAULT_ID_BYTES + 1 + 16 + 4;
}

EVP_CIPHER_CTX *
page_cipher_new(const unsigned char key[DFT_KEY_BYTES])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NULL;
    }
    /* Key schedule once; each page then sets only its nonce. */
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, 1) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, DFT_PAGE_NONCE_BYTES, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void
page_cipher_free(EVP_CIPHER_CTX *ctx)
{
    EVP_CIPHER_CTX_free(ctx); /* OpenSSL cleanses the key schedule */
}

int
page_encrypt(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
             const struct dft_page_ad *ad)
{
    unsigned char *nonce = out + DFT_PAGE_DATA_BYTES;
    unsigned char *tag = nonce + DFT_PAGE_NONCE_BYTES;
    unsigned char n[DFT_PAGE_NONCE_BYTES];
    int len = 0;
    int fin = 0;
    randombytes_buf(n, sizeof n);
    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, n, 1) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &len, ad->b, (int)ad->len) != 1 ||
        EVP_CipherUpdate(ctx, out, &len, in, DFT_PAGE_DATA_BYTES) != 1 ||
        EVP_CipherFinal_ex(ctx, out + len, &fin) != 1) {
        sodium_memzero(out, DFT_PAGE_BYTES);
        return -1;
    }
    /* The reserved bytes of in may alias nonce and tag: write them only now. */
    memcpy(nonce, n, sizeof n);
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, DFT_PAGE_TAG_BYTES, tag) != 1) {
        sodium_memzero(out, DFT_PAGE_BYTES);
        return -1;
    }
    return 0;
}

int
page_decrypt(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
             const struct dft_page_ad *ad)
{
    unsigned char n[DFT_PAGE_NONCE_BYTES];
    unsigned char tag[DFT_PAGE_TAG_BYTES];
    int len = 0;
    int fin = 0;
    int ok;
    /* Copy nonce and tag first: out may alias in, and out's reserved bytes become zero. */
    memcpy(n, in + DFT_PAGE_DATA_BYTES, sizeof n);
    memcpy(tag, in + DFT_PAGE_DATA_BYTES + DFT_PAGE_NONCE_BYTES, sizeof tag);
    ok = EVP_CipherInit_ex(ctx, NULL, NULL, NULL, n, 0) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &len, ad->b, (int)ad->len) == 1 &&
         EVP_CipherUpdate(ctx, out, &len, in, DFT_PAGE_DATA_BYTES) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, DFT_PAGE_TAG_BYTES, tag) == 1 &&
         EVP_CipherFinal_ex(ctx, out + len, &fin) == 1;
    if (!ok) {
        sodium_memzero(out, DFT_PAGE_BYTES);
        return -1;
    }
    memset(out + DFT_PAGE_DATA_BYTES, 0, DFT_PAGE_RESERVE);
    return 0;
}

void
wal_checksum(int big, const unsigned char *data, size_t n, uint32_t s[2])
{
    uint32_t s1 = s[0];
    uint32_t s2 = s[1];
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint32_t a;
        uint32_t b;
        if (big) {
            a = (uint32_t)dft_be_get(data + i, 4);
            b = (uint32_t)dft_be_get(data + i + 4, 4);
        } else {
            a = (uint32_t)data[i] | ((uint32_t)data[i + 1] << 8) | ((uint32_t)data[i + 2] << 16) |
                ((uint32_t)data[i + 3] << 24);
            b = (uint32_t)data[i + 4] | ((uint32_t)data[i + 5] << 8) |
                ((uint32_t)data[i + 6] << 16) | ((uint32_t)data[i + 7] << 24);
        }
        s1 += a + s2;
        s2 += b + s1;
    }
    s[0] = s1;
    s[1] = s2;
}
