/*
 * vfs.c - the encrypting SQLite VFS: its methods, and the main database file (store.h).
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

#include "crypto/prf.h"
#include "store/vfs_internal.h"

struct dft_vfs_fault dft_vfs_fault;

static const sqlite3_io_methods file_methods;

#define ROUND8(n) (((n) + 7) & ~(size_t)7)

int
store_fault_hit(long *at)
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

/* Write the main database's gathered pages (main_write), if any. */
static int
wb_flush(struct file *f)
{
    if (f == NULL || f->wb_pages == 0) {
        return SQLITE_OK;
    }
    int n = f->wb_pages;
    f->wb_pages = 0;
    int rc = store_raw_write(f, f->wb, n * DFT_PAGE_BYTES, f->wb_off);
    if (rc != SQLITE_OK) {
        f->wr_err = rc;
    }
    return rc;
}

/* The error of a deferred write of f that failed earlier (wr_err), once; SQLITE_OK if none. */
static int
latched_err(struct file *f)
{
    int rc = f->wr_err;
    f->wr_err = SQLITE_OK;
    return rc;
}

int
store_raw_read(struct file *f, void *buf, int amt, sqlite3_int64 off)
{
    int rc = wb_flush(f); /* the main database's own gathered pages first */
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, buf, amt, off);
}

int
store_raw_write(struct file *f, const void *buf, int amt, sqlite3_int64 off)
{
    if (store_fault_hit(&dft_vfs_fault.write_at)) {
        return dft_vfs_fault.rc;
    }
    return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

int
store_raw_size(struct file *f, sqlite3_int64 *size)
{
    int rc = wb_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

/*
 * Page 1 of a vault must say page size DFT_PAGE_BYTES and DFT_PAGE_RESERVE reserved bytes: if
 * SQLite ever used the reserved bytes for content, the nonce and tag would destroy it.
 */
int
store_page1_ok(const unsigned char *page)
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
    int rc = store_raw_size(f, &size);
    if (rc != SQLITE_OK) {
        return rc;
    }
    return size == 0 ? SQLITE_IOERR_SHORT_READ : SQLITE_IOERR_DATA;
}

/* Forget the read-ahead pages (a write or truncation may have changed the file under them). */
static void
ra_drop(struct file *f)
{
    f->ra_count = 0;
}

/*
 * Read-ahead for scans: after STORE_RA_AFTER page reads in file order, read the next
 * STORE_RA_PAGES stored pages (ciphertext: nothing secret) with one pread and hand them out one
 * at a time, each authenticated and decrypted straight into SQLite's buffer when it asks for it,
 * exactly as a page read from the file. Saves a system call per page on sequential scans; random
 * (point) reads never start it. This connection holds the file exclusively (locking_mode
 * EXCLUSIVE) and every write or truncation through it drops the pages held.
 * Returns the stored page (in f->ra), or NULL to read it from the file.
 */
static const unsigned char *
ra_page(struct file *f, sqlite3_int64 pgidx)
{
    if (f->ra_count > 0 && pgidx >= f->ra_first && pgidx < f->ra_first + f->ra_count) {
        return f->ra + (size_t)(pgidx - f->ra_first) * DFT_PAGE_BYTES;
    }
    f->ra_run = pgidx == f->ra_next ? f->ra_run + 1 : 0;
    if (f->ra_run < STORE_RA_AFTER) {
        return NULL;
    }
    sqlite3_int64 size = 0;
    if (store_raw_size(f, &size) != SQLITE_OK) {
        return NULL;
    }
    sqlite3_int64 n = size / DFT_PAGE_BYTES - pgidx;
    n = n > STORE_RA_PAGES ? STORE_RA_PAGES : n;
    if (n < 2) {
        return NULL;
    }
    if (f->ra == NULL && (f->ra = malloc((size_t)STORE_RA_PAGES * DFT_PAGE_BYTES)) == NULL) {
        return NULL;
    }
    f->ra_count = 0;
    if (store_raw_read(f, f->ra, (int)n * DFT_PAGE_BYTES, pgidx * DFT_PAGE_BYTES) != SQLITE_OK) {
        return NULL;
    }
    f->ra_first = pgidx;
    f->ra_count = (int)n;
    return f->ra;
}

static int
main_read_page(struct file *f, unsigned char *buf, sqlite3_int64 pgidx)
{
    struct dft_page_ad ad;
    if (pgidx >= 0xffffffffLL) {
        memset(buf, 0, DFT_PAGE_BYTES);
        return SQLITE_IOERR_DATA;
    }
    const unsigned char *stored = ra_page(f, pgidx);
    f->ra_next = pgidx + 1;
    if (stored == NULL) {
        int rc = store_raw_read(f, buf, DFT_PAGE_BYTES, pgidx * DFT_PAGE_BYTES);
        if (rc == SQLITE_IOERR_SHORT_READ) {
            return main_short_read(f, buf, DFT_PAGE_BYTES);
        }
        if (rc != SQLITE_OK) {
            return rc;
        }
        stored = buf; /* decrypted in place */
    }
    page_ad_main(&ad, f->vfs->vault_id, (uint32_t)(pgidx + 1));
    if (page_decrypt(f->ctx, buf, stored, &ad) != 0) {
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
    if (pgno == 1 && !store_page1_ok(buf)) {
        return SQLITE_IOERR_WRITE;
    }
    ra_drop(f);
    /* Gather consecutive pages (a checkpoint's) into one pwrite of up to STORE_WB_PAGES. */
    if (f->wb_pages > 0 && off != f->wb_off + (sqlite3_int64)f->wb_pages * DFT_PAGE_BYTES) {
        int rc = wb_flush(f);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    if (f->wb == NULL && (f->wb = malloc((size_t)STORE_WB_PAGES * DFT_PAGE_BYTES)) == NULL) {
        return SQLITE_IOERR_NOMEM;
    }
    page_ad_main(&ad, f->vfs->vault_id, pgno);
    if (page_encrypt(f->ctx, f->wb + (size_t)f->wb_pages * DFT_PAGE_BYTES, buf, &ad) != 0) {
        return SQLITE_IOERR_WRITE;
    }
    if (f->wb_pages++ == 0) {
        f->wb_off = off;
    }
    return f->wb_pages == STORE_WB_PAGES ? wb_flush(f) : SQLITE_OK;
}
/* ---- sqlite3_io_methods ---- */

/*
 * Write the WAL's deferred frame header (wal.c), if any, before a call on either file touches
 * the files: the page write of the same frame alone does not (it writes both in one pwrite).
 */
static int
pending_flush(struct file *f)
{
    struct file *w = f->vfs->wal;
    int rc = w != NULL ? store_wal_flush(w) : SQLITE_OK;
    int mrc = wb_flush(f->vfs->main);
    return rc != SQLITE_OK ? rc : mrc;
}

static int
x_close(sqlite3_file *pf)
{
    struct file *f = (struct file *)pf;
    int rc = pending_flush(f);
    if (rc == SQLITE_OK && f->wr_err != SQLITE_OK) {
        rc = latched_err(f); /* a deferred write failed in a call whose error SQLite ignored */
    }
    if (f->real->pMethods != NULL) {
        int crc = f->real->pMethods->xClose(f->real);
        rc = rc != SQLITE_OK ? rc : crc;
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
    free(f->ra);
    f->ra = NULL;
    f->ra_count = 0;
    free(f->wb);
    f->wb = NULL;
    f->wb_pages = 0;
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
        int rc = pending_flush(f);
        return rc != SQLITE_OK ? rc : main_read(f, buf, amt, off);
    }
    return store_wal_read(f, buf, amt, off);
}

static int
x_write(sqlite3_file *pf, const void *buf, int amt, sqlite3_int64 off)
{
    struct file *f = (struct file *)pf;
    if (amt <= 0 || off < 0) {
        return SQLITE_IOERR_WRITE;
    }
    if (f->wr_err != SQLITE_OK) {
        return latched_err(f);
    }
    if (f->kind == DFT_PAGE_KIND_MAIN) {
        int rc = f->vfs->wal != NULL ? store_wal_flush(f->vfs->wal) : SQLITE_OK;
        return rc != SQLITE_OK ? rc : main_write(f, buf, amt, off);
    }
    int rc = wb_flush(f->vfs->main);
    return rc != SQLITE_OK ? rc : store_wal_write(f, buf, amt, off);
}

static int
x_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    struct file *f = (struct file *)pf;
    if (f->kind == DFT_PAGE_KIND_MAIN && size % DFT_PAGE_BYTES != 0) {
        return SQLITE_IOERR_TRUNCATE;
    }
    int rc = pending_flush(f);
    if (f->wr_err != SQLITE_OK) {
        return latched_err(f); /* a deferred write of this file failed, now or earlier */
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (f->kind == DFT_PAGE_KIND_WAL) {
        store_wal_truncated(f, size);
    }
    ra_drop(f);
    return f->real->pMethods->xTruncate(f->real, size);
}

static int
x_sync(sqlite3_file *pf, int flags)
{
    struct file *f = (struct file *)pf;
    int rc = pending_flush(f);
    if (f->wr_err != SQLITE_OK) {
        return latched_err(f); /* a deferred write of this file failed, now or earlier */
    }
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (store_fault_hit(&dft_vfs_fault.sync_at)) {
        return dft_vfs_fault.rc;
    }
    return f->real->pMethods->xSync(f->real, flags);
}

static int
x_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    struct file *f = (struct file *)pf;
    int rc = pending_flush(f);
    return rc != SQLITE_OK ? rc : store_raw_size(f, size);
}

static int
x_lock(sqlite3_file *pf, int lock)
{
    struct file *f = (struct file *)pf;
    int rc = pending_flush(f); /* a failure is latched (wr_err): the lock still changes */
    int lrc = f->real->pMethods->xLock(f->real, lock);
    return lrc != SQLITE_OK ? lrc : rc;
}

static int
x_unlock(sqlite3_file *pf, int lock)
{
    struct file *f = (struct file *)pf;
    /* SQLite records the new lock level even when this fails: the OS lock must follow it */
    int rc = pending_flush(f);
    int lrc = f->real->pMethods->xUnlock(f->real, lock);
    return lrc != SQLITE_OK ? lrc : rc;
}

static int
x_check_reserved_lock(sqlite3_file *pf, int *out)
{
    struct file *f = (struct file *)pf;
    int rc = pending_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xCheckReservedLock(f->real, out);
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
    int rc = pending_flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
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

void
store_vfs_free(struct vfs *v)
{
    sodium_free(v); /* wipes the keys */
}

struct vfs *
store_vfs_new(const unsigned char page_key[DFT_KEY_BYTES],
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
    crypto_prf(v->wal_mask_key, sizeof v->wal_mask_key, page_key, "defter wal mask key v1", NULL,
               0);
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
struct vfs *
store_vfs_of(sqlite3 *db)
{
    sqlite3_vfs *pv = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pv) != SQLITE_OK ||
        pv == NULL || pv->xOpen != v_open) {
        return NULL;
    }
    return (struct vfs *)pv;
}

struct file *
store_main_file(sqlite3 *db)
{
    sqlite3_file *pf = NULL;
    if (store_vfs_of(db) == NULL ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &pf) != SQLITE_OK ||
        pf == NULL || pf->pMethods != &file_methods) {
        return NULL;
    }
    return (struct file *)pf;
}
