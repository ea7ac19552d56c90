/*
 * wal.c - the WAL through the encrypting VFS: each frame's page is sealed like a database page
 * (its AD binds the frame header, the WAL salts and the frame number), and both words of
 * SQLite's frame checksum are masked with a keyed PRF of (salts, frame number).
 *
 * SQLite's checksum is unkeyed and linear over the plaintext page: in clear it would let a
 * finder of the WAL confirm guesses of page contents. The mask is applied to bytes 16..23 of a
 * frame header on every write and removed on every read at the same offset, so SQLite (and
 * wal_scan) see their own checksums. Must never hand SQLite a page that failed authentication.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/prf.h"
#include "store/vfs_internal.h"

#define WAL_CKSUM_OFF 16 /* the two checksum words in a frame header */

/* ---- WAL ---- */

/* Split a WAL offset into frame number (1-based) and position inside the frame. */
static int
wal_locate(sqlite3_int64 off, uint32_t *frame, int *in)
{
    if (off < DFT_WAL_HDR_BYTES) {
        return -1;
    }
    sqlite3_int64 rel = off - DFT_WAL_HDR_BYTES;
    if (rel / DFT_WAL_FRAME_BYTES >= 0xfffffffeLL) {
        return -1;
    }
    *frame = (uint32_t)(rel / DFT_WAL_FRAME_BYTES + 1);
    *in = (int)(rel % DFT_WAL_FRAME_BYTES);
    return 0;
}

static sqlite3_int64
wal_frame_off(uint32_t frame)
{
    return DFT_WAL_HDR_BYTES + (sqlite3_int64)(frame - 1) * DFT_WAL_FRAME_BYTES;
}

/* The current WAL header's salts (cached; this connection alone writes the WAL). */
static int
wal_salts(struct file *f, const unsigned char **salts)
{
    if (!f->salts_ok) {
        unsigned char h[DFT_WAL_HDR_BYTES];
        int rc = store_raw_read(f, h, sizeof h, 0);
        if (rc != SQLITE_OK) {
            return rc;
        }
        memcpy(f->salts, h + 16, sizeof f->salts);
        f->salts_ok = 1;
    }
    *salts = f->salts;
    return SQLITE_OK;
}

/* The 8-byte mask of frame's checksum words: PRF(wal_mask_key, salts ‖ u32be(frame)). */
static void
wal_mask(const struct file *f, const unsigned char salts[8], uint32_t frame, unsigned char m[8])
{
    unsigned char in[12];
    memcpy(in, salts, 8);
    dft_be_put(in + 8, frame, 4);
    crypto_prf(m, 8, f->vfs->wal_mask_key, "defter wal checksum mask v1", in, sizeof in);
}

/*
 * XOR the mask into the bytes of buf (amt bytes at offset in of frame's header) that fall on
 * the checksum words: masking and unmasking are the same operation.
 */
static void
wal_apply_mask(const struct file *f, const unsigned char salts[8], uint32_t frame, int in,
               unsigned char *buf, int amt)
{
    unsigned char m[8];
    int lo = in > WAL_CKSUM_OFF ? in : WAL_CKSUM_OFF;
    int hi = in + amt < DFT_WAL_FRAME_HDR_BYTES ? in + amt : DFT_WAL_FRAME_HDR_BYTES;
    if (lo >= hi) {
        return;
    }
    wal_mask(f, salts, frame, m);
    for (int j = lo; j < hi; j++) {
        buf[j - in] ^= m[j - WAL_CKSUM_OFF];
    }
}

int
store_wal_read(struct file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    const unsigned char *salts = NULL;
    uint32_t frame = 0;
    int in = 0;
    struct dft_page_ad ad;
    int frc = store_wal_flush(f);
    if (frc != SQLITE_OK) {
        memset(buf, 0, (size_t)amt);
        return frc;
    }
    if (off + amt <= DFT_WAL_HDR_BYTES) {
        return store_raw_read(f, buf, amt, off); /* WAL header: clear */
    }
    if (wal_locate(off, &frame, &in) != 0) {
        memset(buf, 0, (size_t)amt);
        return SQLITE_IOERR_DATA;
    }
    if (in + amt <= DFT_WAL_FRAME_HDR_BYTES) {
        /* frame header (or part): clear but for the masked checksum words */
        int rc = wal_salts(f, &salts);
        if (rc == SQLITE_OK) {
            rc = store_raw_read(f, buf, amt, off);
        }
        if (rc == SQLITE_OK) {
            wal_apply_mask(f, salts, frame, in, buf, amt);
        }
        return rc;
    }
    if (in == DFT_WAL_FRAME_HDR_BYTES && amt == DFT_PAGE_BYTES) {
        /* Page alone (checkpoint, page reads): a failure is an error. One read for both. */
        int rc = wal_salts(f, &salts);
        if (rc == SQLITE_OK) {
            rc = store_raw_read(f, f->out, DFT_WAL_FRAME_BYTES, off - DFT_WAL_FRAME_HDR_BYTES);
        }
        if (rc == SQLITE_IOERR_SHORT_READ) {
            rc = SQLITE_IOERR_DATA;
        }
        if (rc != SQLITE_OK) {
            memset(buf, 0, (size_t)amt);
            return rc;
        }
        page_ad_wal(&ad, f->vfs->vault_id, f->out, salts, frame);
        rc = page_decrypt(f->ctx, buf, f->out + DFT_WAL_FRAME_HDR_BYTES, &ad);
        return rc == 0 ? SQLITE_OK : SQLITE_IOERR_DATA;
    }
    if (in == 0 && amt == DFT_WAL_FRAME_BYTES) {
        /*
         * Whole frame (recovery): a frame that fails authentication (a torn last write) reads
         * as zeros, page number 0 and wrong salts included, so SQLite's recovery stops there.
         */
        int rc = wal_salts(f, &salts);
        if (rc == SQLITE_OK) {
            rc = store_raw_read(f, buf, amt, off);
        }
        if (rc != SQLITE_OK) {
            memset(buf, 0, (size_t)amt);
            return rc;
        }
        page_ad_wal(&ad, f->vfs->vault_id, buf, salts, frame);
        if (page_decrypt(f->ctx, buf + DFT_WAL_FRAME_HDR_BYTES, buf + DFT_WAL_FRAME_HDR_BYTES,
                         &ad) != 0) {
            memset(buf, 0, (size_t)amt);
        } else {
            wal_apply_mask(f, salts, frame, 0, buf, DFT_WAL_FRAME_HDR_BYTES);
        }
        return SQLITE_OK;
    }
    /* Any other shape would expose ciphertext as data (e.g. a forged page size). */
    memset(buf, 0, (size_t)amt);
    return SQLITE_IOERR_DATA;
}

static void
wal_note_commit(struct file *f, const unsigned char *hdr, uint32_t frame)
{
    if ((uint32_t)dft_be_get(hdr + 4, 4) != 0 && frame > f->committed) {
        f->committed = frame;
    }
}

static int
wal_write_page(struct file *f, const unsigned char *hdr, const unsigned char *page, uint32_t frame,
               unsigned char *out)
{
    struct dft_page_ad ad;
    const unsigned char *salts = NULL;
    if ((uint32_t)dft_be_get(hdr, 4) == 1 && !store_page1_ok(page)) {
        return SQLITE_IOERR_WRITE;
    }
    if (wal_salts(f, &salts) != SQLITE_OK) {
        return SQLITE_IOERR_WRITE;
    }
    page_ad_wal(&ad, f->vfs->vault_id, hdr, salts, frame);
    return page_encrypt(f->ctx, out, page, &ad) == 0 ? SQLITE_OK : SQLITE_IOERR_WRITE;
}

/* 1 when a write of amt bytes at off is the page of the frame whose header is pending. */
static int
in_page_of_pending(const struct file *f, int amt, sqlite3_int64 off)
{
    return amt == DFT_PAGE_BYTES && off == f->hdr_off + DFT_WAL_FRAME_HDR_BYTES;
}

int
store_wal_flush(struct file *f)
{
    if (!f->hdr_pending) {
        return SQLITE_OK;
    }
    f->hdr_pending = 0;
    int rc = store_raw_write(f, f->hdr_masked, DFT_WAL_FRAME_HDR_BYTES, f->hdr_off);
    if (rc != SQLITE_OK) {
        f->hdr_off = -1;
        f->wr_err = rc;
    }
    return rc;
}

int
store_wal_write(struct file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    uint32_t frame = 0;
    int in = 0;
    int rc;
    if (f->hdr_pending && !(in_page_of_pending(f, amt, off))) {
        rc = store_wal_flush(f);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    if (off + amt <= DFT_WAL_HDR_BYTES) {
        f->salts_ok = 0;
        rc = store_raw_write(f, buf, amt, off);
        if (off == 0) {
            f->committed = 0; /* a new WAL header starts a new generation */
        }
        return rc;
    }
    if (wal_locate(off, &frame, &in) != 0) {
        return SQLITE_IOERR_WRITE;
    }
    if (in + amt <= DFT_WAL_FRAME_HDR_BYTES) {
        /* Frame header: clear but for the masked checksum words. Remember it for the page. */
        unsigned char masked[DFT_WAL_FRAME_HDR_BYTES];
        const unsigned char *salts = NULL;
        f->hdr_off = -1;
        if (wal_salts(f, &salts) != SQLITE_OK) {
            return SQLITE_IOERR_WRITE;
        }
        memcpy(masked, buf, (size_t)amt);
        wal_apply_mask(f, salts, frame, in, masked, amt);
        if (in == 0 && amt == DFT_WAL_FRAME_HDR_BYTES) {
            /* Deferred: written with its page in one pwrite (or by store_wal_flush). */
            memcpy(f->hdr, buf, sizeof f->hdr);
            memcpy(f->hdr_masked, masked, sizeof f->hdr_masked);
            f->hdr_off = off;
            f->hdr_pending = 1;
            return SQLITE_OK;
        }
        return store_raw_write(f, masked, amt, off);
    }
    if (in == 0 && amt == DFT_WAL_FRAME_BYTES) {
        const unsigned char *salts = NULL;
        memcpy(f->out, buf, DFT_WAL_FRAME_HDR_BYTES);
        rc = wal_salts(f, &salts);
        if (rc != SQLITE_OK) {
            return SQLITE_IOERR_WRITE;
        }
        wal_apply_mask(f, salts, frame, 0, f->out, DFT_WAL_FRAME_HDR_BYTES);
        rc = wal_write_page(f, buf, buf + DFT_WAL_FRAME_HDR_BYTES, frame,
                            f->out + DFT_WAL_FRAME_HDR_BYTES);
        if (rc == SQLITE_OK) {
            rc = store_raw_write(f, f->out, amt, off);
        }
        f->hdr_off = -1;
        if (rc == SQLITE_OK) {
            wal_note_commit(f, buf, frame);
        }
        return rc;
    }
    if (in == DFT_WAL_FRAME_HDR_BYTES && amt == DFT_PAGE_BYTES) {
        unsigned char hdr[DFT_WAL_FRAME_HDR_BYTES];
        sqlite3_int64 hoff = off - DFT_WAL_FRAME_HDR_BYTES;
        if (f->hdr_off == hoff) {
            memcpy(hdr, f->hdr, sizeof hdr);
        } else {
            /* A page rewritten in place (SQLite does not rewrite its header first). */
            rc = store_raw_read(f, hdr, sizeof hdr, hoff);
            if (rc != SQLITE_OK) {
                return SQLITE_IOERR_WRITE;
            }
        }
        if (f->hdr_pending) {
            /* The header SQLite just wrote and its page: one pwrite for the whole frame. */
            f->hdr_pending = 0;
            memcpy(f->out, f->hdr_masked, DFT_WAL_FRAME_HDR_BYTES);
            rc = wal_write_page(f, hdr, buf, frame, f->out + DFT_WAL_FRAME_HDR_BYTES);
            if (rc == SQLITE_OK) {
                rc = store_raw_write(f, f->out, DFT_WAL_FRAME_BYTES, hoff);
            }
        } else {
            rc = wal_write_page(f, hdr, buf, frame, f->out);
            if (rc == SQLITE_OK) {
                rc = store_raw_write(f, f->out, amt, off);
            }
        }
        if (rc == SQLITE_OK) {
            wal_note_commit(f, hdr, frame);
        } else {
            f->hdr_off = -1;
        }
        return rc;
    }
    return SQLITE_IOERR_WRITE;
}

/*
 * Walk the WAL as SQLite's recovery does (salts, checksums over the plaintext, commit frames)
 * and return in *valid the last commit frame recovery would keep. With check set, a frame up to
 * f->committed that fails authentication is reported in *bad (0: none). Frames after the valid
 * end are not part of the database (a torn last write, or stale frames of an older generation).
 */
int
store_wal_scan(struct file *f, int check, uint32_t *valid, uint32_t *bad)
{
    unsigned char h[DFT_WAL_HDR_BYTES];
    unsigned char *fr = NULL;
    sqlite3_int64 size = 0;
    uint32_t s[2] = {0, 0};
    int rc;
    *valid = 0;
    *bad = 0;
    rc = store_wal_flush(f);
    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = store_raw_size(f, &size);
    if (rc != SQLITE_OK || size < DFT_WAL_HDR_BYTES) {
        return rc;
    }
    rc = store_raw_read(f, h, sizeof h, 0);
    if (rc != SQLITE_OK) {
        return rc;
    }
    uint32_t magic = (uint32_t)dft_be_get(h, 4);
    int big = (int)(magic & 1);
    wal_checksum(big, h, 24, s);
    int hdr_ok = (magic & ~1u) == WAL_MAGIC && (uint32_t)dft_be_get(h + 4, 4) == WAL_VERSION &&
                 (uint32_t)dft_be_get(h + 8, 4) == DFT_PAGE_BYTES &&
                 s[0] == (uint32_t)dft_be_get(h + 24, 4) && s[1] == (uint32_t)dft_be_get(h + 28, 4);
    uint32_t nframes = (uint32_t)((size - DFT_WAL_HDR_BYTES) / DFT_WAL_FRAME_BYTES);
    uint32_t limit = check ? (f->committed > nframes ? f->committed : nframes) : nframes;
    if (!hdr_ok) {
        if (check && f->committed > 0) {
            *bad = 1;
        }
        return SQLITE_OK;
    }
    fr = malloc(DFT_WAL_FRAME_BYTES);
    if (fr == NULL) {
        return SQLITE_NOMEM;
    }
    int chain = 1; /* still inside the prefix recovery would accept */
    for (uint32_t i = 1; i <= limit; i++) {
        int ok = 0;
        if (i <= nframes) {
            struct dft_page_ad ad;
            rc = store_raw_read(f, fr, DFT_WAL_FRAME_BYTES, wal_frame_off(i));
            if (rc != SQLITE_OK) {
                break;
            }
            page_ad_wal(&ad, f->vfs->vault_id, fr, h + 16, i);
            ok = memcmp(fr + 8, h + 16, 8) == 0 && (uint32_t)dft_be_get(fr, 4) != 0 &&
                 page_decrypt(f->ctx, f->plain, fr + DFT_WAL_FRAME_HDR_BYTES, &ad) == 0;
            if (ok && chain) {
                wal_apply_mask(f, h + 16, i, 0, fr, DFT_WAL_FRAME_HDR_BYTES);
                wal_checksum(big, fr, 8, s);
                wal_checksum(big, f->plain, DFT_PAGE_BYTES, s);
                chain = s[0] == (uint32_t)dft_be_get(fr + 16, 4) &&
                        s[1] == (uint32_t)dft_be_get(fr + 20, 4);
                if (chain && (uint32_t)dft_be_get(fr + 4, 4) != 0) {
                    *valid = i;
                }
            }
            sodium_memzero(f->plain, DFT_PAGE_BYTES);
        }
        if (!ok || !chain) {
            chain = 0;
            if (check && i <= f->committed) {
                *bad = i;
                break;
            }
        }
        if (!chain && !check) {
            break;
        }
    }
    free(fr);
    return rc;
}

void
store_wal_truncated(struct file *f, sqlite3_int64 size)
{
    f->hdr_off = -1;
    f->salts_ok = 0;
    if (size < DFT_WAL_HDR_BYTES) {
        f->committed = 0;
    } else if ((size - DFT_WAL_HDR_BYTES) / DFT_WAL_FRAME_BYTES < f->committed) {
        f->committed = (uint32_t)((size - DFT_WAL_HDR_BYTES) / DFT_WAL_FRAME_BYTES);
    }
}
