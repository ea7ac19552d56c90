/*
 * vfs_internal.h - internal to src/store/: the encrypting VFS's structures and the functions its
 * three files share (vfs.c: the VFS, its file methods and the main database file; wal.c: the
 * WAL; open.c: store.h's open, close and page check). Never include it from elsewhere.
 */
#ifndef DEFTER_STORE_VFS_INTERNAL_H
#define DEFTER_STORE_VFS_INTERNAL_H

#include <sqlite3.h>

#include "store/page.h"
#include "store/vfs.h"

#define WAL_MAGIC          0x377f0682u
#define WAL_VERSION        3007000u
#define WAL_MASK_KEY_BYTES 32

struct vfs {
    sqlite3_vfs base;                               /* registered under name; must stay first */
    sqlite3_vfs *root;                              /* the unix VFS doing the real I/O */
    char name[64];                                  /* unique per connection */
    unsigned char page_key[DFT_KEY_BYTES];          /* AES-256-GCM key of every page */
    unsigned char vault_id[DFT_VAULT_ID_BYTES];     /* bound into every page's AD */
    unsigned char wal_mask_key[WAL_MASK_KEY_BYTES]; /* keys the WAL checksum mask (wal.c) */
    struct file *main;                              /* the open main database, or NULL */
    struct file *wal;                               /* the open WAL, or NULL */
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
    /* Main database read-ahead (vfs.c): ciphertext only, each page authenticated when read. */
    unsigned char *ra;      /* STORE_RA_PAGES stored pages as read from the file, or NULL */
    sqlite3_int64 ra_first; /* page index of ra's first page */
    int ra_count;           /* pages held in ra (0: none) */
    sqlite3_int64 ra_next;  /* page index a sequential reader would read next */
    int ra_run;             /* consecutive sequential page reads so far */
    /*
     * WAL: the masked frame header at hdr_off, not yet in the file: written with its page in one
     * pwrite, or alone before any other call touches the file (store_wal_flush).
     */
    unsigned char hdr_masked[DFT_WAL_FRAME_HDR_BYTES];
    int hdr_pending;
    /*
     * Main database: sealed pages of consecutive writes (a checkpoint writes pages in order),
     * written in one pwrite when STORE_WB_PAGES are held or before any other call touches the
     * files (vfs.c). Ciphertext only.
     */
    unsigned char *wb;
    sqlite3_int64 wb_off; /* file offset of wb's first page */
    int wb_pages;         /* pages held in wb (0: none) */
    /*
     * A deferred write (wb or the WAL frame header) that failed inside a call whose error SQLite
     * may ignore (a file control, a lock change): reported by this file's next write, truncate
     * or sync, so SQLite never syncs past lost data.
     */
    int wr_err;
};

/*
 * Page cache of every vault connection, a cap in KiB (PRAGMA cache_size=-N, applied by
 * store_open): SQLite's own default is 2,000 KiB; each page missing from the cache costs an
 * AES-256-GCM decryption (about 1 us) on top of the read, so vaults keep more pages. The vault
 * layer asks for the same 64 MiB (vault.c). Memory is taken as pages are used, not up front.
 */
#define STORE_CACHE_KIB 65536

/* Pages read in one pread once a reader goes through the main database in order (64 KiB). */
#define STORE_RA_PAGES 16
/* Consecutive main database page writes gathered into one pwrite (64 KiB). */
#define STORE_WB_PAGES 16
/* Sequential page reads in a row that start read-ahead (point reads never trigger it). */
#define STORE_RA_AFTER 2

/* ---- vfs.c ---- */

/* 1 when the test fault hook fails this call (dft_vfs_fault). */
int store_fault_hit(long *at);
int store_raw_read(struct file *f, void *buf, int amt, sqlite3_int64 off);
int store_raw_write(struct file *f, const void *buf, int amt, sqlite3_int64 off);
int store_raw_size(struct file *f, sqlite3_int64 *size);
/* Page 1 keeps DFT_PAGE_BYTES pages and DFT_PAGE_RESERVE reserved bytes. */
int store_page1_ok(const unsigned char *page);
/* A new VFS (sodium_malloc, keys copied) wrapping "unix", not yet registered; NULL on failure. */
struct vfs *store_vfs_new(const unsigned char page_key[DFT_KEY_BYTES],
                          const unsigned char vault_id[DFT_VAULT_ID_BYTES]);
void store_vfs_free(struct vfs *v); /* wipes the keys; NULL allowed */
/* The VFS behind db if it is one of ours, else NULL. */
struct vfs *store_vfs_of(sqlite3 *db);
/* The main database file of db if it goes through one of our VFSes, else NULL. */
struct file *store_main_file(sqlite3 *db);

/* ---- alloc.c ---- */

/*
 * Route SQLite's memory through the secure pool (once per process, before SQLite initialises).
 * 1 when SQLite uses it, 0 when SQLite was already initialised by someone else.
 */
int store_memory_init(void);

/* ---- wal.c ---- */

int store_wal_read(struct file *f, unsigned char *buf, int amt, sqlite3_int64 off);
int store_wal_write(struct file *f, const unsigned char *buf, int amt, sqlite3_int64 off);
/*
 * Write a deferred frame header (f->hdr_pending) to the file, so that the file is what SQLite
 * wrote; a no-op when none is pending or f is not a WAL. Every file method but the page write
 * of the same frame calls it first.
 */
int store_wal_flush(struct file *f);
/* SQLite truncated the WAL to size bytes. */
void store_wal_truncated(struct file *f, sqlite3_int64 size);
/*
 * Walk the WAL as SQLite's recovery does (salts, checksums over the plaintext, commit frames)
 * and return in *valid the last commit frame recovery would keep. With check set, a frame up to
 * f->committed that fails authentication is reported in *bad (0: none).
 */
int store_wal_scan(struct file *f, int check, uint32_t *valid, uint32_t *bad);

#endif
