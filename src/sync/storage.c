/*
 * storage.c - pick the backends `defter serve` was asked for.
 *
 * --db postgresql://... (or postgres://) selects the PostgreSQL log store (store_pg.c), else
 * SQLite in --data DIR; --objects s3://... selects the S3 blob store (store_s3.c), else files
 * in --data DIR. Only the scheme is checked here: each backend's open parses the rest, so a bad
 * URL is reported once, by the code that understands it.
 */
#include <string.h>

#include "sync/storage.h"

enum dft_err
sync_storage_pick(const char *db_url, const char *objects_url, const struct sync_log_ops **log,
                  const struct sync_blob_ops **blob, struct dft_error *err)
{
    const struct sync_log_ops *l = &sync_log_sqlite;
    const struct sync_blob_ops *b = &sync_blob_files;
    if (db_url != NULL) {
        if (strncmp(db_url, "postgresql://", 13) != 0 && strncmp(db_url, "postgres://", 11) != 0) {
            return dft_fail(err, DFT_ERR_USAGE, "--db wants a postgresql:// URL");
        }
        l = &sync_log_pg;
    }
    if (objects_url != NULL) {
        if (strncmp(objects_url, "s3://", 5) != 0) {
            return dft_fail(err, DFT_ERR_USAGE, "--objects wants an s3:// URL");
        }
        b = &sync_blob_s3;
    }
    *log = l;
    *blob = b;
    return DFT_OK;
}
