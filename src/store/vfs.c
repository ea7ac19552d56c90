/*
 * vfs.c - the encrypting SQLite VFS and the vault database connection (store.h).
 *
 * Each store_open registers its own sqlite3_vfs wrapping SQLite's "unix" VFS; its keys live
 * in sodium_malloc memory and are wiped when store_close unregisters it. The VFS opens only
 * the main database and its WAL: temporary files, rollback journals and anything without a name
 * are refused, so no plaintext file can appear. Page data is encrypted before it reaches the
 * unix VFS and authenticated after it comes back (store/page.c); a page that fails
 * authentication is never handed to SQLite as data. Must never write plaintext page data to a
 * file, nor keep plaintext in its own buffers longer than one call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store/page.h"
#include "store/vfs.h"

#define WAL_MAGIC   0x377f0682u
#define WAL_VERSION 3007000u

struct dft_vfs_fault dft_vfs_fault;

struct vfs {
    sqlite3_vfs base;                           /* registered under name; must stay first */
    sqlite3_vfs *root;                          /* the unix VFS doing the real I/O */
    char name[64];                              /* unique per connection */
    unsigned char page_key[DFT_KEY_BYTES];      /* AES-256-GCM key of every page */
    unsigned char vault_id[DFT_VAULT_ID_BYTES]; /* bound into every page's AD */
    struct file *main;                          /* the open main database, or NULL */
    struct file *wal;                           /* the open WAL, or NULL */
};

struct file {
    sqlite3_file base;       /* our methods; must stay first */
    struct vfs *vfs;         /* owner (keys) */
    sqlite3_file *real;      /* the unix file, allocated right after this struct */
    EVP_CIPHER_CTX *ctx;     /* AES-256-GCM keyed with the page key */
    enum dft_page_kind kind; /* main database or WAL */
    unsigned char *plain;    /* sodium_malloc page: plaintext of partial reads, wiped */
    unsigned char *out;      /* ciphertext staging for writes (one WAL frame) */
    sqlite3_int64 hdr_off;   /* WAL: offset of the cached frame header, -1 if none */
    unsigned char hdr[DFT_WAL_FRAME_HDR_BYTES]; /* WAL: last frame header written */
    unsigned char salts[8];                     /* WAL: salt-1 and salt-2 of the WAL header */
    int salts_ok;                               /* WAL: salts holds the header's current salts */
    uint32_t committed; /* WAL: frames SQLite may treat as committed (see wal_scan) */
};

static const sqlite3_io_methods file_methods;

#define ROUND8(n) (((n) + 7) & ~(size_t)7)

static int
fault_hit(long *at)
{
    if (*at <= 0) {
        return 0;
    }
    if (*at > 1) {
        (*at)--;
        return 0;
    }
    if (!dft_vfs_fault.sticky) {
        *at = 0;
    }
    dft_vfs_fault.hits++;
    return 1;
}

/* ---- raw I/O on the unix file ---- */

static int
raw_read(struct file *f, void *buf, int amt, sqlite3_int64 off)
{
    return f->real->pMethods->xRead(f->real, buf, amt, off);
}

static int
raw_write(struct file *f, const void *buf, int amt, sqlite3_int64 off)
{
    if (fault_hit(&dft_vfs_fault.write_at)) {
        return dft_vfs_fault.rc;
    }
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

static int
raw_size(struct file *f, sqlite3_int64 *size)
{
    return f->real->pMethods->xFileSize(f->real, size);
}

/*
 * Page 1 of a vault must say page size DFT_PAGE_BYTES and DFT_PAGE_RESERVE reserved bytes: if
 * SQLite ever used the reserved bytes for content, the nonce and tag would destroy it.
 */
static int
page1_ok(const unsigned char *page)
{
    return page[16] == (DFT_PAGE_BYTES >> 8) && page[17] == (DFT_PAGE_BYTES & 0xff) &&
           page[20] == DFT_PAGE_RESERVE;
}

/* ---- main database ---- */

/* A read past the end: zeros for an empty (new) database, an integrity failure otherwise. */
static int
main_short_read(struct file *f, void *buf, int amt)
{
    sqlite3_int64 size = 0;
    memset(buf, 0, (size_t)amt);
    int rc = raw_size(f, &size);
    if (rc != SQLITE_OK) {
        return rc;
    }
    return size == 0 ? SQLITE_IOERR_SHORT_READ : SQLITE_IOERR_DATA;
}

static int
main_read_page(struct file *f, unsigned char *buf, sqlite3_int64 pgidx)
{
    struct dft_page_ad ad;
    if (pgidx >= 0xffffffffLL) {
        memset(buf, 0, DFT_PAGE_BYTES);
        return SQLITE_IOERR_DATA;
    }
    int rc = raw_read(f, buf, DFT_PAGE_BYTES, pgidx * DFT_PAGE_BYTES);
    if (rc == SQLITE_IOERR_SHORT_READ) {
        return main_short_read(f, buf, DFT_PAGE_BYTES);
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    page_ad_main(&ad, f->vfs->vault_id, (uint32_t)(pgidx + 1));
    if (page_decrypt(f->ctx, buf, buf, &ad) != 0) {
        return SQLITE_IOERR_DATA;
    }
    return SQLITE_OK;
}

static int
main_read(struct file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    if (amt == DFT_PAGE_BYTES && off % DFT_PAGE_BYTES == 0) {
        return main_read_page(f, buf, off / DFT_PAGE_BYTES);
    }
    /* Partial reads (the 100-byte header of page 1): decrypt the whole page aside. */
    int rc = SQLITE_OK;
    while (amt > 0) {
        sqlite3_int64 pgidx = off / DFT_PAGE_BYTES;
        int in = (int)(off % DFT_PAGE_BYTES);
        int n = DFT_PAGE_BYTES - in < amt ? DFT_PAGE_BYTES - in : amt;
        rc = main_read_page(f, f->plain, pgidx);
        memcpy(buf, f->plain + in, (size_t)n);
        sodium_memzero(f->plain, DFT_PAGE_BYTES);
        if (rc != SQLITE_OK) {
            if (rc != SQLITE_IOERR_SHORT_READ) {
                memset(buf, 0, (size_t)amt);
            } else {
                memset(buf + n, 0, (size_t)(amt - n));
            }
            return rc;
        }
        buf += n;
        amt -= n;
        off += n;
    }
    return rc;
}

static int
main_write(struct file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    struct dft_page_ad ad;
    if (amt != DFT_PAGE_BYTES || off % DFT_PAGE_BYTES != 0 ||
        off / DFT_PAGE_BYTES >= 0xffffffffLL) {
        return SQLITE_IOERR_WRITE; /* SQLite writes whole pages only */
    }
    uint32_t pgno = (uint32_t)(off / DFT_PAGE_BYTES + 1);
    if (pgno == 1 && !page1_ok(buf)) {
        return SQLITE_IOERR_WRITE;
    }
    page_ad_main(&ad, f->vfs->vault_id, pgno);
    if (page_encrypt(f->ctx, f->out, buf, &ad) != 0) {
        return SQLITE_IOERR_WRITE;
    }
    return raw_write(f, f->out, DFT_PAGE_BYTES, off);
}

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
        int rc = raw_read(f, h, sizeof h, 0);
        if (rc != SQLITE_OK) {
            return rc;
        }
        memcpy(f->salts, h + 16, sizeof f->salts);
        f->salts_ok = 1;
    }
    *salts = f->salts;
    return SQLITE_OK;
}

static int
wal_read(struct file *f, unsigned char *buf, int amt, sqlite3_int64 off)
{
    const unsigned char *salts = NULL;
    uint32_t frame = 0;
    int in = 0;
    struct dft_page_ad ad;
    if (off + amt <= DFT_WAL_HDR_BYTES) {
        return raw_read(f, buf, amt, off); /* WAL header: clear */
    }
    if (wal_locate(off, &frame, &in) != 0) {
        memset(buf, 0, (size_t)amt);
        return SQLITE_IOERR_DATA;
    }
    if (in + amt <= DFT_WAL_FRAME_HDR_BYTES) {
        return raw_read(f, buf, amt, off); /* frame header (or part): clear */
    }
    if (in == DFT_WAL_FRAME_HDR_BYTES && amt == DFT_PAGE_BYTES) {
        /* Page alone (checkpoint, page reads): a failure is an error. One read for both. */
        int rc = wal_salts(f, &salts);
        if (rc == SQLITE_OK) {
            rc = raw_read(f, f->out, DFT_WAL_FRAME_BYTES, off - DFT_WAL_FRAME_HDR_BYTES);
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
            rc = raw_read(f, buf, amt, off);
        }
        if (rc != SQLITE_OK) {
            memset(buf, 0, (size_t)amt);
            return rc;
        }
        page_ad_wal(&ad, f->vfs->vault_id, buf, salts, frame);
        if (page_decrypt(f->ctx, buf + DFT_WAL_FRAME_HDR_BYTES, buf + DFT_WAL_FRAME_HDR_BYTES,
                         &ad) != 0) {
            memset(buf, 0, (size_t)amt);
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
    if ((uint32_t)dft_be_get(hdr, 4) == 1 && !page1_ok(page)) {
        return SQLITE_IOERR_WRITE;
    }
    if (wal_salts(f, &salts) != SQLITE_OK) {
        return SQLITE_IOERR_WRITE;
    }
    page_ad_wal(&ad, f->vfs->vault_id, hdr, salts, frame);
    return page_encrypt(f->ctx, out, page, &ad) == 0 ? SQLITE_OK : SQLITE_IOERR_WRITE;
}

static int
wal_write(struct file *f, const unsigned char *buf, int amt, sqlite3_int64 off)
{
    uint32_t frame = 0;
    int in = 0;
    int rc;
    if (off + amt <= DFT_WAL_HDR_BYTES) {
        f->salts_ok = 0;
        rc = raw_write(f, buf, amt, off);
        if (off == 0) {
            f->committed = 0; /* a new WAL header starts a new generation */
        }
        return rc;
    }
    if (wal_locate(off, &frame, &in) != 0) {
        return SQLITE_IOERR_WRITE;
    }
    if (in + amt <= DFT_WAL_FRAME_HDR_BYTES) {
        /* Frame header: clear. Remember it for the page write that follows. */
        f->hdr_off = -1;
        rc = raw_write(f, buf, amt, off);
        if (rc == SQLITE_OK && in == 0 && amt == DFT_WAL_FRAME_HDR_BYTES) {
            memcpy(f->hdr, buf, sizeof f->hdr);
            f->hdr_off = off;
        }
        return rc;
    }
    if (in == 0 && amt == DFT_WAL_FRAME_BYTES) {
        memcpy(f->out, buf, DFT_WAL_FRAME_HDR_BYTES);
        rc = wal_write_page(f, buf, buf + DFT_WAL_FRAME_HDR_BYTES, frame,
                            f->out + DFT_WAL_FRAME_HDR_BYTES);
        if (rc == SQLITE_OK) {
            rc = raw_write(f, f->out, amt, off);
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
            rc = raw_read(f, hdr, sizeof hdr, hoff);
            if (rc != SQLITE_OK) {
                return SQLITE_IOERR_WRITE;
            }
        }
        rc = wal_write_page(f, hdr, buf, frame, f->out);
        if (rc == SQLITE_OK) {
            rc = raw_write(f, f->out, amt, off);
        }
        if (rc == SQLITE_OK) {
            wal_note_commit(f, hdr, frame);
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
static int
wal_scan(struct file *f, int check, uint32_t *valid, uint32_t *bad)
{
    unsigned char h[DFT_WAL_HDR_BYTES];
    unsigned char *fr = NULL;
    sqlite3_int64 size = 0;
    uint32_t s[2] = {0, 0};
    int rc;
    *valid = 0;
    *bad = 0;
    rc = raw_size(f, &size);
    if (rc != SQLITE_OK || size < DFT_WAL_HDR_BYTES) {
        return rc;
    }
    rc = raw_read(f, h, sizeof h, 0);
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
            rc = raw_read(f, fr, DFT_WAL_FRAME_BYTES, wal_frame_off(i));
            if (rc != SQLITE_OK) {
                break;
            }
            page_ad_wal(&ad, f->vfs->vault_id, fr, h + 16, i);
            ok = memcmp(fr + 8, h + 16, 8) == 0 && (uint32_t)dft_be_get(fr, 4) != 0 &&
                 page_decrypt(f->ctx, f->plain, fr + DFT_WAL_FRAME_HDR_BYTES, &ad) == 0;
            if (ok && chain) {
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

/* ---- sqlite3_io_methods ---- */

static int
x_close(sqlite3_file *pf)
{
    struct file *f = (struct file *)pf;
    int rc = SQLITE_OK;
    if (f->real->pMethods != NULL) {
        rc = f->real->pMethods->xClose(f->real);
    }
    if (f->vfs->main == f) {
        f->vfs->main = NULL;
    }
    if (f->vfs->wal == f) {
        f->vfs->wal = NULL;
    }
    page_cipher_free(f->ctx);
    f->ctx = NULL;
    sodium_free(f->plain);
    f->plain = NULL;
    free(f->out);
    f->out = NULL;
    f->base.pMethods = NULL;
    return rc;
}

static int
x_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
    struct file *f = (struct file *)pf;
    if (amt <= 0 || off < 0) {
        return SQLITE_IOERR_READ;
    }
    if (f->kind == DFT_PAGE_KIND_MAIN) {
        return main_read(f, buf, amt, off);
    }
    return wal_read(f, buf, amt, off);
}

static int
x_write(sqlite3_file *pf, const void *buf, int amt, sqlite3_int64 off)
{
    struct file *f = (struct file *)pf;
    if (amt <= 0 || off < 0) {
        return SQLITE_IOERR_WRITE;
    }
    if (f->kind == DFT_PAGE_KIND_MAIN) {
        return main_write(f, buf, amt, off);
    }
    return wal_write(f, buf, amt, off);
}

static int
x_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    struct file *f = (struct file *)pf;
    if (f->kind == DFT_PAGE_KIND_MAIN && size % DFT_PAGE_BYTES != 0) {
        return SQLITE_IOERR_TRUNCATE;
    }
    if (f->kind == DFT_PAGE_KIND_WAL) {
        f->hdr_off = -1;
        f->salts_ok = 0;
        if (size < DFT_WAL_HDR_BYTES) {
            f->committed = 0;
        } else if ((size - DFT_WAL_HDR_BYTES) / DFT_WAL_FRAME_BYTES < f->committed) {
            f->committed = (uint32_t)((size - DFT_WAL_HDR_BYTES) / DFT_WAL_FRAME_BYTES);
        }
    }
    return f->real->pMethods->xTruncate(f->real, size);
}

static int
x_sync(sqlite3_file *pf, int flags)
{
    struct file *f = (struct file *)pf;
    if (fault_hit(&dft_vfs_fault.sync_at)) {
        return dft_vfs_fault.rc;
    }
    return f->real->pMethods->xSync(f->real, flags);
}

static int
x_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    return raw_size((struct file *)pf, size);
}

static int
x_lock(sqlite3_file *pf, int lock)
{
    struct file *f = (struct file *)pf;
    return f->real->pMethods->xLock(f->real, lock);
}

static int
x_unlock(sqlite3_file *pf, int lock)
{
    struct file *f = (struct file *)pf;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int
x_check_reserved_lock(sqlite3_file *pf, int *out)
{
    struct file *f = (struct file *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
x_file_control(sqlite3_file *pf, int op, void *arg)
{
    struct file *f = (struct file *)pf;
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
        /* Memory-mapped reads would bypass decryption; our methods have no xFetch anyway. */
        *(sqlite3_int64 *)arg = 0;
        return SQLITE_OK;
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
x_sector_size(sqlite3_file *pf)
{
    struct file *f = (struct file *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int
x_device_characteristics(sqlite3_file *pf)
{
    struct file *f = (struct file *)pf;
    /*
     * Powersafe overwrite (the unix VFS's default too) keeps SQLite from padding WAL commits to
     * a sector boundary, which would split a page write in two and defeat per-page encryption.
     */
    return (f->real->pMethods->xDeviceCharacteristics(f->real) | SQLITE_IOCAP_POWERSAFE_OVERWRITE) &
           ~(SQLITE_IOCAP_BATCH_ATOMIC);
}

/* Version 1: no shared memory (the WAL index stays in heap memory) and no memory mapping. */
static const sqlite3_io_methods file_methods = {
    1,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

/* ---- sqlite3_vfs ---- */

static int
v_open(sqlite3_vfs *pv, const char *name, sqlite3_file *pf, int flags, int *out_flags)
{
    struct vfs *v = (struct vfs *)pv;
    struct file *f = (struct file *)pf;
    const int refused = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TRANSIENT_DB | SQLITE_OPEN_TEMP_JOURNAL |
                        SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_MAIN_JOURNAL |
                        SQLITE_OPEN_SUPER_JOURNAL | SQLITE_OPEN_DELETEONCLOSE;
    int rc;
    memset(f, 0, sizeof *f);
    if (name == NULL || (flags & refused) != 0) {
        return SQLITE_CANTOPEN; /* temporary files and journals would hold plaintext */
    }
    if ((flags & SQLITE_OPEN_MAIN_DB) != 0 && v->main == NULL) {
        f->kind = DFT_PAGE_KIND_MAIN;
    } else if ((flags & SQLITE_OPEN_WAL) != 0 && v->wal == NULL) {
        f->kind = DFT_PAGE_KIND_WAL;
    } else {
        return SQLITE_CANTOPEN;
    }
    f->vfs = v;
    f->hdr_off = -1;
    f->real = (sqlite3_file *)((char *)f + ROUND8(sizeof *f));
    memset(f->real, 0, (size_t)v->root->szOsFile);
    f->ctx = page_cipher_new(v->page_key);
    f->plain = sodium_malloc(DFT_PAGE_BYTES);
    f->out = malloc(DFT_WAL_FRAME_BYTES);
    if (f->ctx == NULL || f->plain == NULL || f->out == NULL) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    rc = v->root->xOpen(v->root, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        goto fail;
    }
    f->base.pMethods = &file_methods;
    if (f->kind == DFT_PAGE_KIND_MAIN) {
        v->main = f;
    } else {
        v->wal = f;
    }
    return SQLITE_OK;
fail:
    if (f->real->pMethods != NULL) {
        f->real->pMethods->xClose(f->real);
    }
    page_cipher_free(f->ctx);
    sodium_free(f->plain);
    free(f->out);
    memset(f, 0, sizeof *f);
    return rc;
}

static int
v_delete(sqlite3_vfs *pv, const char *name, int sync_dir)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xDelete(r, name, sync_dir);
}

static int
v_access(sqlite3_vfs *pv, const char *name, int flags, int *out)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xAccess(r, name, flags, out);
}

static int
v_full_pathname(sqlite3_vfs *pv, const char *name, int n, char *out)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xFullPathname(r, name, n, out);
}

static void *
v_dl_open(sqlite3_vfs *pv, const char *name)
{
    (void)pv;
    (void)name;
    return NULL; /* no extension loading through a vault connection */
}

static void
v_dl_error(sqlite3_vfs *pv, int n, char *msg)
{
    (void)pv;
    if (n > 0) {
        snprintf(msg, (size_t)n, "extension loading is disabled");
    }
}

static void (*v_dl_sym(sqlite3_vfs *pv, void *h, const char *sym))(void)
{
    (void)pv;
    (void)h;
    (void)sym;
    return NULL;
}

static void
v_dl_close(sqlite3_vfs *pv, void *h)
{
    (void)pv;
    (void)h;
}

static int
v_randomness(sqlite3_vfs *pv, int n, char *out)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xRandomness(r, n, out);
}

static int
v_sleep(sqlite3_vfs *pv, int us)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xSleep(r, us);
}

static int
v_current_time(sqlite3_vfs *pv, double *out)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xCurrentTime(r, out);
}

static int
v_get_last_error(sqlite3_vfs *pv, int n, char *out)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    return r->xGetLastError != NULL ? r->xGetLastError(r, n, out) : 0;
}

static int
v_current_time_int64(sqlite3_vfs *pv, sqlite3_int64 *out)
{
    sqlite3_vfs *r = ((struct vfs *)pv)->root;
    if (r->iVersion >= 2 && r->xCurrentTimeInt64 != NULL) {
        return r->xCurrentTimeInt64(r, out);
    }
    double d = 0;
    int rc = r->xCurrentTime(r, &d);
    *out = (sqlite3_int64)(d * 86400000.0);
    return rc;
}

static void
vfs_free(struct vfs *v)
{
    sodium_free(v); /* wipes the keys */
}

static struct vfs *
vfs_new(const unsigned char page_key[DFT_KEY_BYTES],
        const unsigned char vault_id[DFT_VAULT_ID_BYTES])
{
    static unsigned long counter;
    sqlite3_vfs *root = sqlite3_vfs_find("unix");
    if (root == NULL) {
        return NULL;
    }
    struct vfs *v = sodium_malloc(sizeof *v);
    if (v == NULL) {
        return NULL;
    }
    memset(v, 0, sizeof *v);
    memcpy(v->page_key, page_key, DFT_KEY_BYTES);
    memcpy(v->vault_id, vault_id, DFT_VAULT_ID_BYTES);
    v->root = root;
    unsigned long n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
    snprintf(v->name, sizeof v->name, "defter-%ld-%lu-%p", (long)getpid(), n, (void *)v);
    v->base.iVersion = 2;
    v->base.szOsFile = (int)(ROUND8(sizeof(struct file)) + (size_t)root->szOsFile);
    v->base.mxPathname = root->mxPathname;
    v->base.zName = v->name;
    v->base.pAppData = v;
    v->base.xOpen = v_open;
    v->base.xDelete = v_delete;
    v->base.xAccess = v_access;
    v->base.xFullPathname = v_full_pathname;
    v->base.xDlOpen = v_dl_open;
    v->base.xDlError = v_dl_error;
    v->base.xDlSym = v_dl_sym;
    v->base.xDlClose = v_dl_close;
    v->base.xRandomness = v_randomness;
    v->base.xSleep = v_sleep;
    v->base.xCurrentTime = v_current_time;
    v->base.xGetLastError = v_get_last_error;
    v->base.xCurrentTimeInt64 = v_current_time_int64;
    return v;
}

/* The VFS behind db if it is one of ours, else NULL. */
static struct vfs *
vfs_of(sqlite3 *db)
{
    sqlite3_vfs *pv = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pv) != SQLITE_OK ||
        pv == NULL || pv->xOpen != v_open) {
        return NULL;
    }
    return (struct vfs *)pv;
}

/* ---- store.h ---- */

/* Run one statement and return its first column as an integer (or text in txt). */
static int
query1(sqlite3 *db, const char *sql, sqlite3_int64 *num, char *txt, size_t txt_max)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return rc;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (num != NULL) {
            *num = sqlite3_column_int64(st, 0);
        }
        if (txt != NULL) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(txt, txt_max, "%s", t != NULL ? (const char *)t : "");
        }
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Errors while reading the first page: wrong key and tampering read the same. */
static enum dft_err
open_error(sqlite3 *db, int rc, struct dft_error *err)
{
    struct dft_error tmp;
    dft_error_clear(&tmp);
    enum dft_err code = store_error(db, rc, "cannot open vault database", &tmp);
    if (code == DFT_ERR_INTEGRITY) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "vault database failed authentication");
    }
    return dft_fail(err, code, "%s", tmp.msg);
}

enum dft_err
store_open(sqlite3 **db_out, const char *path, const unsigned char page_key[DFT_KEY_BYTES],
           const unsigned char vault_id[DFT_VAULT_ID_BYTES], unsigned flags, struct dft_error *err)
{
    struct vfs *v = NULL;
    sqlite3 *db = NULL;
    int registered = 0;
    int created = 0;
    enum dft_err e = DFT_OK;
    int rc;
    char mode[16];

    if (db_out == NULL || path == NULL || page_key == NULL || vault_id == NULL ||
        ((flags & DFT_STORE_CREATE) && (flags & DFT_STORE_READONLY))) {
        return dft_fail(err, DFT_ERR_USAGE, "cannot open vault database: bad arguments");
    }
    *db_out = NULL;
    if (sodium_init() < 0) {
        return dft_fail(err, DFT_ERR_CRYPTO, "cannot initialise libsodium");
    }
    v = vfs_new(page_key, vault_id);
    if (v == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot open vault database: out of memory");
    }
    rc = sqlite3_vfs_register(&v->base, 0);
    if (rc != SQLITE_OK) {
        e = store_error(NULL, rc, "cannot register the vault file layer", err);
        goto out;
    }
    registered = 1;

    if (flags & DFT_STORE_CREATE) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            e = dft_fail(err, DFT_ERR_IO, "cannot create vault database: %s",
                         errno == EEXIST ? "it already exists" : strerror(errno));
            goto out;
        }
        close(fd);
        created = 1;
    } else {
        struct stat st;
        if (stat(path, &st) != 0) {
            e = dft_fail(err, DFT_ERR_IO, "cannot open vault database: %s", strerror(errno));
            goto out;
        }
        if (st.st_size == 0) {
            /* Only creation makes an empty database; an emptied one must not pass as new. */
            e = dft_fail(err, DFT_ERR_INTEGRITY, "vault database is empty (truncated)");
            goto out;
        }
    }

    /*
     * Read-only vaults are opened read-write with query_only: an exclusive WAL connection needs
     * a write lock on the file (and may have to recover the WAL), which a read-only file
     * descriptor cannot take. Only a checkpoint at close writes, never a logical change.
     * NOMUTEX: a vault connection is only ever used by one thread at a time (the CLI, or the
     * UI server's single request thread), so SQLite's per-call mutexes are pure cost.
     */
    rc = sqlite3_open_v2(path, &db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW |
                             SQLITE_OPEN_PRIVATECACHE | SQLITE_OPEN_NOMUTEX,
                         v->name);
    if (rc != SQLITE_OK) {
        e = open_error(db, rc, err);
        goto out;
    }
    sqlite3_extended_result_codes(db, 1);
    /* Settings that do no I/O come first; EXCLUSIVE before the WAL opens keeps it in heap. */
    rc = sqlite3_exec(db,
                      "PRAGMA locking_mode=EXCLUSIVE; PRAGMA synchronous=FULL; "
                      "PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON; "
                      "PRAGMA foreign_keys=ON;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        e = store_error(db, rc, "cannot configure vault database", err);
        goto out;
    }
    if (created) {
        int reserve = DFT_PAGE_RESERVE;
        /* No journal for the creating transaction: the VFS refuses journal files. */
        rc = sqlite3_exec(db, "PRAGMA page_size=4096; PRAGMA journal_mode=OFF;", NULL, NULL, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
        }
        if (rc != SQLITE_OK) {
            e = store_error(db, rc, "cannot create vault database", err);
            goto out;
        }
    } else {
        /* Read page 1 now: a wrong key or a tampered first page fails here. */
        rc = query1(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, 0);
        if (rc != SQLITE_OK) {
            e = open_error(db, rc, err);
            goto out;
        }
    }
    rc = query1(db, "PRAGMA journal_mode=WAL", NULL, mode, sizeof mode);
    if (rc != SQLITE_OK) {
        e = created ? store_error(db, rc, "cannot create vault database", err)
                    : open_error(db, rc, err);
        goto out;
    }
    if (strcmp(mode, "wal") != 0) {
        e = dft_fail(err, DFT_ERR_INTEGRITY, "vault database is not in WAL mode (%s)", mode);
        goto out;
    }
    if ((flags & DFT_STORE_READONLY) &&
        (rc = sqlite3_exec(db, "PRAGMA query_only=ON", NULL, NULL, NULL)) != SQLITE_OK) {
        e = store_error(db, rc, "cannot configure vault database", err);
        goto out;
    }
    if (created) {
        sqlite3_int64 psize = 0;
        int reserve = -1;
        rc = query1(db, "PRAGMA page_size", &psize, NULL, 0);
        if (rc == SQLITE_OK) {
            rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
        }
        if (rc != SQLITE_OK || psize != DFT_PAGE_BYTES || reserve != DFT_PAGE_RESERVE) {
            e = dft_fail(err, DFT_ERR_INTERNAL,
                         "cannot create vault database: page layout not applied");
            goto out;
        }
    }
    if (v->wal != NULL) {
        uint32_t valid = 0;
        uint32_t bad = 0;
        rc = wal_scan(v->wal, 0, &valid, &bad);
        if (rc != SQLITE_OK) {
            e = store_error(db, rc, "cannot open vault database", err);
            goto out;
        }
        v->wal->committed = valid; /* what recovery kept */
    }
    *db_out = db;
    db = NULL;
    v = NULL;
out:
    if (db != NULL) {
        sqlite3_close(db);
    }
    if (v != NULL) {
        if (registered) {
            sqlite3_vfs_unregister(&v->base);
        }
        vfs_free(v);
    }
    if (e != DFT_OK && created) {
        unlink(path); /* a failed creation leaves nothing behind */
    }
    return e;
}

void
store_close(sqlite3 *db)
{
    if (db == NULL) {
        return;
    }
    struct vfs *v = vfs_of(db);
    if (sqlite3_close(db) != SQLITE_OK) {
        /*
         * A statement is still open (a caller's bug): close when it is finalized, and leave the
         * VFS registered since the connection still needs it.
         */
        dft_log(DFT_LOG_ERROR, "store: closing a connection with unfinalized statements");
        sqlite3_close_v2(db);
        return;
    }
    if (v != NULL) {
        sqlite3_vfs_unregister(&v->base);
        vfs_free(v);
    }
}

static enum dft_err
check_main(struct file *f, struct dft_error *err)
{
    sqlite3_int64 size = 0;
    unsigned char *page = NULL;
    enum dft_err e = DFT_OK;
    int rc = raw_size(f, &size);
    if (rc != SQLITE_OK) {
        return dft_fail(err, DFT_ERR_IO, "cannot check vault database: cannot read its size");
    }
    if (size % DFT_PAGE_BYTES != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "vault database: length %lld is not a whole number of pages",
                        (long long)size);
    }
    page = malloc(DFT_PAGE_BYTES);
    if (page == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot check vault database: out of memory");
    }
    for (sqlite3_int64 i = 0; i < size / DFT_PAGE_BYTES; i++) {
        struct dft_page_ad ad;
        rc = raw_read(f, page, DFT_PAGE_BYTES, i * DFT_PAGE_BYTES);
        if (rc != SQLITE_OK) {
            e = dft_fail(err, DFT_ERR_IO, "cannot check vault database: read error at page %lld",
                         (long long)(i + 1));
            break;
        }
        page_ad_main(&ad, f->vfs->vault_id, (uint32_t)(i + 1));
        int bad = page_decrypt(f->ctx, f->plain, page, &ad) != 0;
        sodium_memzero(f->plain, DFT_PAGE_BYTES);
        if (bad) {
            e = dft_fail(err, DFT_ERR_INTEGRITY, "vault database: page %lld failed authentication",
                         (long long)(i + 1));
            break;
        }
    }
    free(page);
    return e;
}

enum dft_err
store_check_pages(sqlite3 *db, struct dft_error *err)
{
    sqlite3_file *pf = NULL;
    enum dft_err e = DFT_OK;
    if (db == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "cannot check pages: no database");
    }
    sqlite3_mutex_enter(sqlite3_db_mutex(db));
    struct vfs *v = vfs_of(db);
    if (v == NULL ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &pf) != SQLITE_OK ||
        pf == NULL || pf->pMethods != &file_methods) {
        e = dft_fail(err, DFT_ERR_USAGE, "cannot check pages: not a vault database connection");
        goto out;
    }
    e = check_main((struct file *)pf, err);
    if (e == DFT_OK && v->wal != NULL) {
        uint32_t valid = 0;
        uint32_t bad = 0;
        int rc = wal_scan(v->wal, 1, &valid, &bad);
        if (rc != SQLITE_OK) {
            e = store_error(db, rc, "cannot check vault database log", err);
        } else if (bad != 0) {
            e = dft_fail(err, DFT_ERR_INTEGRITY,
                         "vault database log (wal): frame %u failed authentication", bad);
        }
    }
out:
    sqlite3_mutex_leave(sqlite3_db_mutex(db));
    return e;
}
