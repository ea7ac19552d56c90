/* open_plain.c - placeholder: unencrypted open until the encrypting VFS lands. */
#include "defter/store.h"

enum dft_err
dft_store_open(sqlite3 **db_out, const char *path, const unsigned char page_key[DFT_KEY_BYTES],
               const unsigned char vault_id[DFT_VAULT_ID_BYTES], unsigned flags,
               struct dft_error *err)
{
    (void)page_key, (void)vault_id;
    sqlite3 *db = NULL;
    int f = (flags & DFT_STORE_READONLY) ? SQLITE_OPEN_READONLY
                                         : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path, &db, f, NULL);
    if (rc != SQLITE_OK) {
        enum dft_err e = dft_store_error(db, rc, "cannot open vault", err);
        sqlite3_close(db);
        return e;
    }
    if (dft_store_exec(db,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                       " PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY",
                       err) != DFT_OK) {
        sqlite3_close(db);
        return DFT_ERR_IO;
    }
    *db_out = db;
    return DFT_OK;
}

void
dft_store_close(sqlite3 *db)
{
    sqlite3_close(db);
}

enum dft_err
dft_store_check_pages(sqlite3 *db, struct dft_error *err)
{
    (void)db, (void)err;
    return DFT_OK;
}
