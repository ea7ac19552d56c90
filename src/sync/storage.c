/*
 * storage.c - pick the backends `defter serve` was asked for.
 *
 * --db postgresql://... selects the PostgreSQL log store, else SQLite in --data DIR;
 * --objects s3://... selects the S3 blob store, else files in --data DIR.
 */
#include <string.h>

#include "sync/storage.h"

enum dft_err
sync_storage_pick(const char *db_url, const char *objects_url, const struct sync_log_ops **log,
                  const struct sync_blob_ops **blob, struct dft_error *err)
{
    *log = &sync_log_sqlite;
    *blob = &sync_blob_files;
    if (db_url != NULL) {
        if (strncmp(db_url, "postgresql://", 13) != 0 && strncmp(db_url, "postgres://", 11) != 0) {
            return dft_fail(err, DFT_ERR_USAGE, "--db wants a postgresql:// URL");
        }
        return dft_fail(err, DFT_ERR_USAGE, "the PostgreSQL store is not built yet");
    }
    if (objects_url != NULL) {
        if (strncmp(objects_url, "s3://", 5) != 0) {
            return dft_fail(err, DFT_ERR_USAGE, "--objects wants an s3:// URL");
        }
        return dft_fail(err, DFT_ERR_USAGE, "the S3 store is not built yet");
    }
    return DFT_OK;
}
