/*
 * store.h - the vault's SQLite database, opened through Defter's encrypting VFS.
 *
 * Every page of the main database and of its WAL (and any rollback journal) is encrypted and
 * authenticated with AES-256-GCM under the page key; the nonce and tag live in each page's
 * reserved bytes; the vault id, the file kind and the page number are associated data, so pages
 * cannot be moved, swapped or taken from another vault. A page that fails authentication is
 * reported as SQLITE_IOERR_DATA (mapped to DFT_ERR_INTEGRITY), never returned as data.
 * The connection runs in WAL mode with synchronous=FULL, locking_mode=EXCLUSIVE (no -shm
 * file) and temp_store=MEMORY; the VFS refuses to open temporary files, so no plaintext file
 * can appear. Format: docs/vault-format.md.
 */
#ifndef DEFTER_STORE_H
#define DEFTER_STORE_H

#include <sqlite3.h>

#include "defter/core.h"
#include "defter/crypto.h"

#define DFT_PAGE_BYTES   4096 /* fixed SQLite page size of every vault */
#define DFT_PAGE_RESERVE 28   /* 12-byte nonce + 16-byte GCM tag at the end of each page */

enum dft_store_flags {
    DFT_STORE_CREATE = 1 << 0,   /* create the database; fails if it exists */
    DFT_STORE_READONLY = 1 << 1, /* open read-only */
};

/*
 * Open (or create) the database at path with the given page key and vault id (both copied into
 * locked memory owned by the connection). On success *db_out is a connection configured as
 * above; close it with store_close. Errors: DFT_ERR_INTEGRITY when the first page does not
 * authenticate (wrong key or tampering), DFT_ERR_BUSY when another process holds the vault,
 * DFT_ERR_IO otherwise.
 */
enum dft_err store_open(sqlite3 **db_out, const char *path,
                        const unsigned char page_key[DFT_KEY_BYTES],
                        const unsigned char vault_id[DFT_VAULT_ID_BYTES], unsigned flags,
                        struct dft_error *err) DFT_MUST_CHECK;

/* Close the connection (checkpointing the WAL) and wipe its key copy. NULL allowed. */
void store_close(sqlite3 *db);

/*
 * Authenticate every page of the database file and every frame of its WAL (if present) without
 * going through SQLite's cache. DFT_ERR_INTEGRITY names the first bad file and page.
 */
enum dft_err store_check_pages(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Map an SQLite result code to a Defter error with one clear message: IOERR_DATA, CORRUPT and
 * NOTADB become DFT_ERR_INTEGRITY; BUSY and LOCKED DFT_ERR_BUSY; FULL and IOERR DFT_ERR_IO;
 * NOMEM DFT_ERR_NOMEM; the rest DFT_ERR_INTERNAL. what names the operation ("cannot add").
 */
enum dft_err store_error(sqlite3 *db, int rc, const char *what, struct dft_error *err);

/* Run SQL without results; errors mapped as store_error. */
enum dft_err store_exec(sqlite3 *db, const char *sql, struct dft_error *err) DFT_MUST_CHECK;

/* Roll back the open transaction, if any; used on error paths where the first error wins. */
void store_rollback(sqlite3 *db);

#endif
