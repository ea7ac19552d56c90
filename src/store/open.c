/*
 * open.c - store.h: open (or create) a vault database through its own encrypting VFS, close
 * it (wiping the VFS keys), and authenticate every page straight from the files.
 *
 * A failed open or creation leaves no connection, no registered VFS and no new file behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store/vfs_internal.h"

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
    (void)store_memory_init();
    v = store_vfs_new(page_key, vault_id);
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
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", STORE_CACHE_KIB);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
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
        rc = store_wal_scan(v->wal, 0, &valid, &bad);
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
        store_vfs_free(v);
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
    struct vfs *v = store_vfs_of(db);
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
        store_vfs_free(v);
    }
}

static enum dft_err
check_main(struct file *f, struct dft_error *err)
{
    sqlite3_int64 size = 0;
    unsigned char *page = NULL;
    enum dft_err e = DFT_OK;
    int rc = store_raw_size(f, &size);
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
        rc = store_raw_read(f, page, DFT_PAGE_BYTES, i * DFT_PAGE_BYTES);
        if (rc != SQLITE_OK) {
            e = dft_fail(err, DFT_ERR_IO, "cannot check vault database: read error at page %lld",
                         (long long)(i + 1));
            break;
        }
        if (store_page_unused((uint32_t)(i + 1), page)) {
            continue; /* SQLite's lock-byte page in a vault above 1 GiB: never written */
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
    enum dft_err e = DFT_OK;
    if (db == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "cannot check pages: no database");
    }
    sqlite3_mutex_enter(sqlite3_db_mutex(db));
    struct vfs *v = store_vfs_of(db);
    struct file *mf = store_main_file(db);
    if (v == NULL || mf == NULL) {
        e = dft_fail(err, DFT_ERR_USAGE, "cannot check pages: not a vault database connection");
        goto out;
    }
    e = check_main(mf, err);
    if (e == DFT_OK && v->wal != NULL) {
        uint32_t valid = 0;
        uint32_t bad = 0;
        int rc = store_wal_scan(v->wal, 1, &valid, &bad);
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
