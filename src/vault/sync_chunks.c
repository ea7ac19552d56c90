/*
 * sync_chunks.c - evidence chunks for team sync (placeholder until the re-wrap lands).
 */
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"

enum dft_err
dft_vault_sync_chunks_out(struct dft_vault *v, const struct dft_sync_keyring *ring,
                          dft_sync_chunk_fn fn, void *ctx, struct dft_error *err)
{
    (void)v;
    (void)ring;
    (void)fn;
    (void)ctx;
    (void)err;
    return DFT_OK;
}

enum dft_err
dft_vault_sync_chunks_wanted(struct dft_vault *v, json_t **names, struct dft_error *err)
{
    (void)v;
    *names = json_array();
    return *names != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}

enum dft_err
dft_vault_sync_chunk_in(struct dft_vault *v, const struct dft_sync_keyring *ring, const char *name,
                        const unsigned char *body, size_t n, struct dft_error *err)
{
    (void)v;
    (void)ring;
    (void)name;
    (void)body;
    (void)n;
    return dft_fail(err, DFT_ERR_INPUT, "evidence chunks are not supported yet");
}
