/*
 * sync_copy.c - read back the entries this vault pulled, by server index, so a member's full
 * copy can re-seed a new server (`defter sync --to URL`, src/sync/client.c).
 *
 * Added by the sync engine's branch (synccore) as a small, compatible addition to the vault's
 * side of sync.h. It hands out only what the server already held: wire entry bodies as
 * received (ciphertext), never a key or a plaintext.
 */
#include <sqlite3.h>

#include "defter/vault_sync.h"
#include "store/store.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"

enum dft_err
dft_vault_sync_pulled(struct dft_vault *v, uint64_t from, dft_sync_out_fn fn, void *ctx,
                      struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    if (from > INT64_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "log index out of range");
    }
    if (!sync_table_exists(v->db, "main", "sync_pulled")) {
        return DFT_OK;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT sidx, body FROM main.sync_pulled WHERE sidx >= ?1"
                                 " ORDER BY sidx",
                                 -1, &st, NULL);
    if (src != SQLITE_OK) {
        return store_error(v->db, src, "cannot read pulled entries", err);
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *body = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
               body != NULL ? body : (const unsigned char *)"", n) != 0) {
            src = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        return store_error(v->db, src, "cannot read pulled entries", err);
    }
    return DFT_OK;
}
