/*
 * page.c - AES-256-GCM encryption and authentication of single database pages.
 *
 * Pure functions over caller buffers: no I/O, no SQLite. Must never hand back plaintext of a
 * page that failed authentication, and never reuse a nonce on purpose (each encryption takes 12
 * random bytes from libsodium, drawn a block at a time per thread: see nonce_next).
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "crypto/gcm.h"
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
    /* Key schedule once (in the secure pool); each page then sets only its nonce. */
    return crypto_gcm_new(key, 1);
}

void
page_cipher_free(EVP_CIPHER_CTX *ctx)
{
    crypto_gcm_free(ctx); /* OpenSSL cleanses the key schedule, the pool wipes it */
}

/*
 * Random nonces, 12 bytes each, from a per-thread block of libsodium random bytes filled by one
 * call per NONCE_BLOCK nonces instead of one system call per page: the bytes are the same random
 * bytes, only fetched together. Each byte is used once; a forked child drops the block it
 * inherited (its parent would use the same bytes), so parent and child never share a nonce.
 */
#define NONCE_BLOCK 128

static _Thread_local struct {
    unsigned char b[NONCE_BLOCK * DFT_PAGE_NONCE_BYTES];
    unsigned used; /* nonces taken from b; NONCE_BLOCK: empty */
    unsigned forks;
} nonces = {{0}, NONCE_BLOCK, 0};

static unsigned forks_seen; /* forks this process came through (children count theirs) */

static void
nonce_after_fork(void)
{
    forks_seen++;
}

static void
nonce_register(void)
{
    (void)pthread_atfork(NULL, NULL, nonce_after_fork);
}

static void
nonce_next(unsigned char n[DFT_PAGE_NONCE_BYTES])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, nonce_register);
    if (nonces.used >= NONCE_BLOCK || nonces.forks != forks_seen) {
        randombytes_buf(nonces.b, sizeof nonces.b);
        nonces.used = 0;
        nonces.forks = forks_seen;
    }
    unsigned char *p = nonces.b + (size_t)nonces.used * DFT_PAGE_NONCE_BYTES;
    memcpy(n, p, DFT_PAGE_NONCE_BYTES);
    sodium_memzero(p, DFT_PAGE_NONCE_BYTES); /* used: never handed out again */
    nonces.used++;
}

int
page_encrypt(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
             const struct dft_page_ad *ad)
{
    unsigned char n[DFT_PAGE_NONCE_BYTES];
    unsigned char tag[DFT_PAGE_TAG_BYTES];
    nonce_next(n);
    if (crypto_gcm_seal(ctx, out, tag, in, DFT_PAGE_DATA_BYTES, n, ad->b, ad->len) != 0) {
        sodium_memzero(out, DFT_PAGE_BYTES);
        return -1;
    }
    /* The reserved bytes of in may alias nonce and tag: write them only now. */
    memcpy(out + DFT_PAGE_DATA_BYTES, n, sizeof n);
    memcpy(out + DFT_PAGE_DATA_BYTES + DFT_PAGE_NONCE_BYTES, tag, sizeof tag);
    return 0;
}

int
page_decrypt(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
             const struct dft_page_ad *ad)
{
    unsigned char n[DFT_PAGE_NONCE_BYTES];
    unsigned char tag[DFT_PAGE_TAG_BYTES];
    /* Copy nonce and tag first: out may alias in, and out's reserved bytes become zero. */
    memcpy(n, in + DFT_PAGE_DATA_BYTES, sizeof n);
    memcpy(tag, in + DFT_PAGE_DATA_BYTES + DFT_PAGE_NONCE_BYTES, sizeof tag);
    if (crypto_gcm_open(ctx, out, tag, in, DFT_PAGE_DATA_BYTES, n, ad->b, ad->len) != 0) {
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

#define PENDING_BYTE_OFFSET 0x40000000 /* SQLite's default lock byte; vaults never change it */

int
store_page_unused(uint32_t pgno, const unsigned char raw[DFT_PAGE_BYTES])
{
    if (pgno != PENDING_BYTE_OFFSET / DFT_PAGE_BYTES + 1) {
        return 0;
    }
    unsigned char any = 0;
    for (size_t i = 0; i < DFT_PAGE_BYTES; i++) {
        any |= raw[i];
    }
    return any == 0;
}
