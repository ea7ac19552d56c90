/*
 * page.h - internal: encryption and authentication of one database page (store/ only).
 *
 * A page is DFT_PAGE_BYTES long; bytes [0, DFT_PAGE_DATA_BYTES) are AES-256-GCM ciphertext, then
 * a 12-byte random nonce and the 16-byte tag fill the DFT_PAGE_RESERVE reserved bytes. The
 * associated data binds the vault id, the file kind and the page number (and, in the WAL, the
 * frame header fields and the frame index). Layout: docs/vault-format.md "Database pages".
 * Never returns unauthenticated plaintext: a failed decryption wipes the output.
 */
#ifndef DEFTER_STORE_PAGE_H
#define DEFTER_STORE_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "store/store.h"

#define DFT_PAGE_DATA_BYTES     (DFT_PAGE_BYTES - DFT_PAGE_RESERVE) /* encrypted part: 4068 */
#define DFT_PAGE_NONCE_BYTES    12
#define DFT_PAGE_TAG_BYTES      16
#define DFT_WAL_HDR_BYTES       32 /* WAL file header */
#define DFT_WAL_FRAME_HDR_BYTES 24 /* WAL frame header */
#define DFT_WAL_FRAME_BYTES     (DFT_WAL_FRAME_HDR_BYTES + DFT_PAGE_BYTES)
#define DFT_PAGE_AD_MAX         48

/* File kinds bound into the associated data (never renumbered: they are on disk). */
enum dft_page_kind {
    DFT_PAGE_KIND_MAIN = 1,    /* the main database file */
    DFT_PAGE_KIND_WAL = 2,     /* the write-ahead log */
    DFT_PAGE_KIND_JOURNAL = 3, /* a rollback journal (reserved: the VFS refuses journals) */
};

struct dft_page_ad {
    unsigned char b[DFT_PAGE_AD_MAX]; /* vault id, kind, page number[, frame fields] */
    size_t len;                       /* bytes used */
};

/* AD of page pgno of the main database: vault_id || 0x01 || pgno (u32 big-endian). */
void page_ad_main(struct dft_page_ad *ad, const unsigned char vault_id[DFT_VAULT_ID_BYTES],
                  uint32_t pgno);

/*
 * AD of the page in WAL frame number frame (1-based) whose 24-byte frame header is hdr, in the
 * WAL generation whose file header carries salts (8 bytes: salt-1, salt-2):
 * vault_id || 0x02 || hdr[0..8) (page number, commit size) || salts || frame (u32 BE).
 * The salts come from the WAL header, not the frame header: SQLite writes some frame headers
 * with zero salts and checksums first and fills them in later (walRewriteChecksums).
 */
void page_ad_wal(struct dft_page_ad *ad, const unsigned char vault_id[DFT_VAULT_ID_BYTES],
                 const unsigned char hdr[DFT_WAL_FRAME_HDR_BYTES], const unsigned char salts[8],
                 uint32_t frame);

/* A cipher context keyed with key (32 bytes) for AES-256-GCM; NULL when OpenSSL fails. */
EVP_CIPHER_CTX *page_cipher_new(const unsigned char key[DFT_KEY_BYTES]);
void page_cipher_free(EVP_CIPHER_CTX *ctx);

/*
 * Encrypt the page in (DFT_PAGE_BYTES; its reserved bytes are ignored) into out with a fresh
 * random nonce. in and out may be the same buffer. Returns 0, or -1 if OpenSSL fails.
 */
int page_encrypt(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
                 const struct dft_page_ad *ad) DFT_MUST_CHECK;

/*
 * Authenticate and decrypt the stored page in into out (both DFT_PAGE_BYTES, may be the same
 * buffer). On success returns 0 and out's reserved bytes are zero (what SQLite wrote there).
 * On failure returns -1 and out is all zeros.
 */
int page_decrypt(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
                 const struct dft_page_ad *ad) DFT_MUST_CHECK;

/*
 * SQLite's WAL checksum (walChecksumBytes): n (a multiple of 8) bytes of data continuing
 * from s[2] in place. big selects big-endian words (WAL magic bit 0 set).
 */
void wal_checksum(int big, const unsigned char *data, size_t n, uint32_t s[2]);

/*
 * 1 for the page SQLite never writes: the one holding its lock byte range at 1 GiB
 * (PENDING_BYTE), when it is still the hole the file system leaves (all zero bytes). Every
 * other page, and that one with anything written in it, must authenticate.
 */
int store_page_unused(uint32_t pgno, const unsigned char raw[DFT_PAGE_BYTES]);

#endif
