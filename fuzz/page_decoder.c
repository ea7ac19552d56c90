/*
 * page_decoder.c - libFuzzer harness for the vault page codec (store/page.c).
 *
 * Input byte 0 picks a mode: decode the rest as database pages (a file), as WAL frames after a
 * WAL header, or encrypt a page built from the input, corrupt it at input-chosen places and
 * check that decoding fails exactly when something changed. Must never crash, never return
 * plaintext for a page that failed, and never accept a modified page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/page.h"

static EVP_CIPHER_CTX *ctx;
static const unsigned char key[DFT_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const unsigned char vid[DFT_VAULT_ID_BYTES] = {0xde, 0xf7, 0xe2};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_be_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            abort(); /* a failed page leaked bytes */
        }
    }
}

static void
decode_file(const uint8_t *data, size_t size)
{
    unsigned char page[DFT_PAGE_BYTES];
    struct dft_page_ad ad;
    uint32_t pgno = 1;
    for (size_t off = 0; off < size; off += DFT_PAGE_BYTES, pgno++) {
        size_t n = size - off < DFT_PAGE_BYTES ? size - off : DFT_PAGE_BYTES;
        memset(page, 0, sizeof page);
        memcpy(page, data + off, n);
        page_ad_main(&ad, vid, pgno);
        if (page_decrypt(ctx, page, page, &ad) != 0) {
            must_be_zero(page, sizeof page);
        }
    }
}

static void
decode_wal(const uint8_t *data, size_t size)
{
    unsigned char frame[DFT_WAL_FRAME_BYTES];
    unsigned char salts[8] = {0};
    struct dft_page_ad ad;
    uint32_t s[2] = {0, 0};
    if (size >= DFT_WAL_HDR_BYTES) {
        memcpy(salts, data + 16, 8);
        wal_checksum((int)(data[3] & 1), data, 24, s);
    }
    uint32_t i = 1;
    for (size_t off = DFT_WAL_HDR_BYTES; off < size; off += DFT_WAL_FRAME_BYTES, i++) {
        size_t n = size - off < DFT_WAL_FRAME_BYTES ? size - off : DFT_WAL_FRAME_BYTES;
        memset(frame, 0, sizeof frame);
        memcpy(frame, data + off, n);
        page_ad_wal(&ad, vid, frame, salts, i);
        unsigned char *page = frame + DFT_WAL_FRAME_HDR_BYTES;
        if (page_decrypt(ctx, page, page, &ad) != 0) {
            must_be_zero(page, DFT_PAGE_BYTES);
        } else {
            wal_checksum(0, frame, 8, s);
            wal_checksum(1, page, DFT_PAGE_BYTES, s);
        }
    }
}

static void
tamper(const uint8_t *data, size_t size)
{
    unsigned char plain[DFT_PAGE_BYTES] = {0};
    unsigned char enc[DFT_PAGE_BYTES];
    unsigned char back[DFT_PAGE_BYTES];
    struct dft_page_ad ad;
    uint32_t pgno = size >= 4 ? (uint32_t)dft_be_get(data, 4) : 7;
    memcpy(plain, data, size < DFT_PAGE_DATA_BYTES ? size : DFT_PAGE_DATA_BYTES);
    page_ad_main(&ad, vid, pgno);
    if (page_encrypt(ctx, enc, plain, &ad) != 0) {
        abort();
    }
    unsigned char enc0[DFT_PAGE_BYTES];
    struct dft_page_ad ad0 = ad;
    memcpy(enc0, enc, sizeof enc0);
    int changed = 0;
    /* Pairs (position u16, xor byte) from the input's tail. */
    for (size_t i = 4; i + 3 <= size && i < 64; i += 3) {
        size_t pos = ((size_t)data[i] << 8 | data[i + 1]) % (DFT_PAGE_BYTES + 4);
        unsigned char x = data[i + 2];
        if (x == 0) {
            continue;
        }
        if (pos < DFT_PAGE_BYTES) {
            enc[pos] ^= x;
        } else {
            ad.b[ad.len - 4 + (pos - DFT_PAGE_BYTES)] ^= x; /* the page number */
        }
        changed = 1;
    }
    memcpy(back, enc, sizeof back);
    int rc = page_decrypt(ctx, back, back, &ad);
    if (rc == 0) {
        /* Accepted: must be unmodified overall (flips may cancel out) and give the plaintext. */
        if (memcmp(enc, enc0, sizeof enc) != 0 || memcmp(ad.b, ad0.b, ad.len) != 0 ||
            memcmp(back, plain, DFT_PAGE_DATA_BYTES) != 0) {
            abort();
        }
        must_be_zero(back + DFT_PAGE_DATA_BYTES, DFT_PAGE_RESERVE);
    } else {
        must_be_zero(back, sizeof back);
        if (!changed) {
            abort(); /* an untouched page must decode */
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ctx == NULL) {
        if (sodium_init() < 0 || (ctx = page_cipher_new(key)) == NULL) {
            abort();
        }
    }
    if (size == 0) {
        return 0;
    }
    if (size > 4 * DFT_WAL_FRAME_BYTES + DFT_WAL_HDR_BYTES) {
        size = 4 * DFT_WAL_FRAME_BYTES + DFT_WAL_HDR_BYTES;
    }
    switch (data[0] % 3) {
    case 0:
        decode_file(data + 1, size - 1);
        break;
    case 1:
        decode_wal(data + 1, size - 1);
        break;
    default:
        tamper(data + 1, size - 1);
        break;
    }
    return 0;
}
