/* stub.c - placeholder transparency-log hooks until the log subsystem lands. */
#include "defter/tlog.h"

enum dft_err
dft_tlog_setup(sqlite3 *db, struct dft_error *err)
{
    (void)db, (void)err;
    return DFT_OK;
}

enum dft_err
dft_tlog_append(sqlite3 *db, uint64_t index, const unsigned char leaf_hash[32],
                struct dft_error *err)
{
    (void)db, (void)index, (void)leaf_hash, (void)err;
    return DFT_OK;
}
