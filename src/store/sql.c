/*
 * sql.c - mapping SQLite results to Defter errors, and small SQL helpers.
 *
 * Messages name the operation and SQLite's reason; never SQL text with user data.
 */
#include "store/store.h"

enum dft_err
store_error(sqlite3 *db, int rc, const char *what, struct dft_error *err)
{
    const char *why = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s: vault database is damaged or tampered (%s)",
                        what, why);
    case SQLITE_IOERR:
        if (rc == SQLITE_IOERR_DATA) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "%s: a vault page failed authentication (tampered or damaged)", what);
        }
        if (rc == SQLITE_IOERR_NOMEM) {
            return dft_fail(err, DFT_ERR_NOMEM, "%s: out of memory", what);
        }
        return dft_fail(err, DFT_ERR_IO, "%s: input/output error (%s)", what, why);
    case SQLITE_FULL:
        return dft_fail(err, DFT_ERR_IO, "%s: disk full", what);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return dft_fail(err, DFT_ERR_BUSY, "%s: the vault is in use by another process", what);
    case SQLITE_NOMEM:
        return dft_fail(err, DFT_ERR_NOMEM, "%s: out of memory", what);
    case SQLITE_CANTOPEN:
        return dft_fail(err, DFT_ERR_IO, "%s: cannot open the vault database (%s)", what, why);
    case SQLITE_READONLY:
        return dft_fail(err, DFT_ERR_IO, "%s: the vault is read-only (%s)", what, why);
    case SQLITE_TOOBIG:
        return dft_fail(err, DFT_ERR_TOO_LARGE, "%s: value too large", what);
    default:
        return dft_fail(err, DFT_ERR_INTERNAL, "%s: database error (%s)", what, why);
    }
}

enum dft_err
store_exec(sqlite3 *db, const char *sql, struct dft_error *err)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return store_error(db, rc, "database", err);
    }
    return DFT_OK;
}

void
store_rollback(sqlite3 *db)
{
    if (db != NULL && !sqlite3_get_autocommit(db)) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
}
