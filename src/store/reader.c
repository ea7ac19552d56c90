/*
 * reader.c - reader.h: a second, read-only connection to an open vault database.
 *
 * The encrypting VFS (vfs.c, wal.c) runs unchanged over a "borrowing" root VFS instead of the
 * unix one: its files forward reads and sizes to the unix files of the open connection's main
 * database and WAL (pread and fstat only, safe beside that connection's own reads), refuse every
 * write, take no lock and close nothing. SQLite keeps the reader's WAL index in heap memory
 * (locking_mode=EXCLUSIVE) and never checkpoints it (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE).
 */
#include <string.h>

#include <sodium.h>

#include "store/reader.h"
#include "store/vfs_internal.h"

#define READER_CACHE_KIB 65536

struct borrow_vfs {
    sqlite3_vfs base;   /* must stay first */
    sqlite3_vfs *unix;  /* names, access checks, time and randomness */
    struct vfs *source; /* the open connection's VFS: its files are read */
    struct vfs *own;    /* the reader's encrypting VFS (keys copied) */
    char name[80];
};

struct borrow_file {
    sqlite3_file base;  /* must stay first */
    sqlite3_file *real; /* the open connection's unix file */
};

static int
b_close(sqlite3_file *pf)
{
    ((struct borrow_file *)pf)->real = NULL; /* the descriptor belongs to the open connection */
    return SQLITE_OK;
}

static int
b_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
    sqlite3_file *r = ((struct borrow_file *)pf)->real;
    return r->pMethods->xRead(r, buf, amt, off);
}

static int
b_write(sqlite3_file *pf, const void *buf, int amt, sqlite3_int64 off)
{
    (void)pf;
    (void)buf;
    (void)amt;
    (void)off;
    return SQLITE_READONLY;
}

static int
b_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    (void)pf;
    (void)size;
    return SQLITE_READONLY;
}

static int
b_sync(sqlite3_file *pf, int flags)
{
    (void)pf;
    (void)flags;
    return SQLITE_OK; /* nothing was written */
}

static int
b_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    sqlite3_file *r = ((struct borrow_file *)pf)->real;
    return r->pMethods->xFileSize(r, size);
}

static int
b_lock(sqlite3_file *pf, int lock)
{
    (void)pf;
    (void)lock;
    return SQLITE_OK; /* the open connection holds the database exclusively */
}

static int
b_check_reserved_lock(sqlite3_file *pf, int *out)
{
    (void)pf;
    *out = 0;
    return SQLITE_OK;
}

static int
b_file_control(sqlite3_file *pf, int op, void *arg)
{
    (void)pf;
    (void)op;
    (void)arg;
    return SQLITE_NOTFOUND;
}

static int
b_sector_size(sqlite3_file *pf)
{
    sqlite3_file *r = ((struct borrow_file *)pf)->real;
    return r->pMethods->xSectorSize(r);
}

static int
b_device_characteristics(sqlite3_file *pf)
{
    sqlite3_file *r = ((struct borrow_file *)pf)->real;
    return r->pMethods->xDeviceCharacteristics(r);
}

static const sqlite3_io_methods borrow_methods = {
    1,
    b_close,
    b_read,
    b_write,
    b_truncate,
    b_sync,
    b_file_size,
    b_lock,
    b_lock,
    b_check_reserved_lock,
    b_file_control,
    b_sector_size,
    b_device_characteristics,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

static int
b_open(sqlite3_vfs *pv, const char *name, sqlite3_file *pf, int flags, int *out_flags)
{
    struct borrow_vfs *b = (struct borrow_vfs *)pv;
    struct borrow_file *f = (struct borrow_file *)pf;
    struct file *src = NULL;
    memset(f, 0, sizeof *f);
    if (name != NULL && (flags & SQLITE_OPEN_MAIN_DB) != 0) {
        src = b->source->main;
    } else if (name != NULL && (flags & SQLITE_OPEN_WAL) != 0) {
        src = b->source->wal;
    }
    if (src == NULL || src->real == NULL || src->real->pMethods == NULL) {
        return SQLITE_CANTOPEN;
    }
    f->real = src->real;
    f->base.pMethods = &borrow_methods;
    if (out_flags != NULL) {
        *out_flags = flags;
    }
    return SQLITE_OK;
}

static int
b_delete(sqlite3_vfs *pv, const char *name, int sync_dir)
{
    (void)pv;
    (void)name;
    (void)sync_dir;
    return SQLITE_IOERR_DELETE; /* a reader removes nothing */
}

static int
b_access(sqlite3_vfs *pv, const char *name, int flags, int *out)
{
    sqlite3_vfs *u = ((struct borrow_vfs *)pv)->unix;
    return u->xAccess(u, name, flags, out);
}

static int
b_full_pathname(sqlite3_vfs *pv, const char *name, int n, char *out)
{
    sqlite3_vfs *u = ((struct borrow_vfs *)pv)->unix;
    return u->xFullPathname(u, name, n, out);
}

static int
b_randomness(sqlite3_vfs *pv, int n, char *out)
{
    sqlite3_vfs *u = ((struct borrow_vfs *)pv)->unix;
    return u->xRandomness(u, n, out);
}

static int
b_sleep(sqlite3_vfs *pv, int us)
{
    sqlite3_vfs *u = ((struct borrow_vfs *)pv)->unix;
    return u->xSleep(u, us);
}

static int
b_current_time(sqlite3_vfs *pv, double *out)
{
    sqlite3_vfs *u = ((struct borrow_vfs *)pv)->unix;
    return u->xCurrentTime(u, out);
}

/* The reader's VFSes, found again from its connection when it closes. */
static struct borrow_vfs *
borrow_of(sqlite3 *rdb)
{
    struct vfs *own = store_vfs_of(rdb);
    if (own == NULL || own->root == NULL || own->root->xOpen != b_open) {
        return NULL;
    }
    return (struct borrow_vfs *)own->root;
}

static void
borrow_free(struct borrow_vfs *b)
{
    if (b == NULL) {
        return;
    }
    if (b->own != NULL) {
        sqlite3_vfs_unregister(&b->own->base);
        store_vfs_free(b->own); /* wipes the key copy */
    }
    sodium_free(b);
}

enum dft_err
store_reader_open(sqlite3 *db, sqlite3 **out, struct dft_error *err)
{
    sqlite3 *rdb = NULL;
    struct vfs *source = db != NULL ? store_vfs_of(db) : NULL;
    struct borrow_vfs *b = NULL;
    const char *path = db != NULL ? sqlite3_db_filename(db, "main") : NULL;
    enum dft_err e = DFT_OK;
    int flushed = 0;
    *out = NULL;
    if (source == NULL || source->main == NULL || path == NULL) {
        return dft_fail(err, DFT_ERR_USAGE,
                        "cannot open a reader: not a vault database connection");
    }
    /* Any write the open connection holds back (vfs.c) reaches the files first. */
    (void)sqlite3_file_control(db, "main", SQLITE_FCNTL_LOCKSTATE, &flushed);
    b = sodium_malloc(sizeof *b);
    if (b == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot open a reader: out of memory");
    }
    memset(b, 0, sizeof *b);
    b->unix = sqlite3_vfs_find("unix");
    b->source = source;
    b->own = store_vfs_new(source->page_key, source->vault_id);
    if (b->unix == NULL || b->own == NULL) {
        borrow_free(b);
        return dft_fail(err, DFT_ERR_NOMEM, "cannot open a reader: out of memory");
    }
    snprintf(b->name, sizeof b->name, "%s-borrow", b->own->name);
    b->base.iVersion = 1;
    b->base.szOsFile = (int)sizeof(struct borrow_file);
    b->base.mxPathname = b->unix->mxPathname;
    b->base.zName = b->name;
    b->base.xOpen = b_open;
    b->base.xDelete = b_delete;
    b->base.xAccess = b_access;
    b->base.xFullPathname = b_full_pathname;
    b->base.xRandomness = b_randomness;
    b->base.xSleep = b_sleep;
    b->base.xCurrentTime = b_current_time;
    /* the encrypting VFS over the borrowing one: its files sit right after its own struct */
    b->own->root = &b->base;
    b->own->base.szOsFile =
        (int)(((sizeof(struct file) + 7) & ~(size_t)7) + sizeof(struct borrow_file));
    int rc = sqlite3_vfs_register(&b->own->base, 0);
    if (rc != SQLITE_OK) {
        store_vfs_free(b->own);
        b->own = NULL;
        borrow_free(b);
        return store_error(NULL, rc, "cannot open a reader", err);
    }
    rc = sqlite3_open_v2(path, &rdb,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_PRIVATECACHE |
                             SQLITE_OPEN_NOMUTEX,
                         b->own->name);
    if (rc == SQLITE_OK) {
        rc = sqlite3_db_config(rdb, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    }
    if (rc == SQLITE_OK) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY; PRAGMA query_only=ON;"
                 " PRAGMA cache_size=-%d; SELECT count(*) FROM sqlite_master",
                 READER_CACHE_KIB);
        rc = sqlite3_exec(rdb, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        e = store_error(rdb, rc, "cannot open a reader", err);
        sqlite3_close(rdb);
        borrow_free(b);
        return e;
    }
    if (b->own->wal != NULL && source->wal != NULL) {
        b->own->wal->committed = source->wal->committed; /* the same committed frames */
    }
    *out = rdb;
    return DFT_OK;
}

void
store_reader_close(sqlite3 *rdb)
{
    if (rdb == NULL) {
        return;
    }
    struct borrow_vfs *b = borrow_of(rdb);
    if (sqlite3_close(rdb) != SQLITE_OK) {
        dft_log(DFT_LOG_ERROR, "store: closing a reader with unfinalized statements");
        sqlite3_close_v2(rdb);
        return; /* its VFS stays registered while the connection needs it */
    }
    borrow_free(b);
}
