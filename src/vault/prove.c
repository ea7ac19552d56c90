/*
 * prove.c - the vault's signed checkpoint and its Merkle proofs, as the JSON of the command-line
 * contract (`defter checkpoint`, `defter prove`), for the CLI and the web interface alike.
 *
 * Read-only. Hashes are standard base64 of the 32 raw bytes, as in C2SP.
 */
#include <string.h>

#include "log/tlog.h"
#include "store/store.h"
#include "vault/vault_internal.h"

static json_t *
hash_json(const unsigned char h[DFT_TLOG_HASH_BYTES])
{
    char b64[DFT_TLOG_HASH_B64];
    tlog_hash_encode(b64, h);
    return json_string(b64);
}

static json_t *
proof_json(unsigned char (*proof)[DFT_TLOG_HASH_BYTES], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++) {
        json_array_append_new(a, hash_json(proof[i]));
    }
    return a;
}

enum dft_err
dft_vault_checkpoint(struct dft_vault *v, uint64_t size, struct dft_buf *out, struct dft_error *err)
{
    struct dft_checkpoint c;
    memset(&c, 0, sizeof c);
    tlog_origin(c.origin, v->keys->sign_pk);
    c.size = size;
    enum dft_err rc = tlog_root(v->db, size, c.root, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return checkpoint_sign(out, &c, v->keys->sign_sk, err);
}

/* Index of the latest envelope touching id. */
static enum dft_err
latest_index(struct dft_vault *v, const char *id, uint64_t *index, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(v->db, "SELECT max(idx) FROM history WHERE record = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return store_error(v->db, rc, "cannot read history", err);
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    enum dft_err out = DFT_OK;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *index = (uint64_t)sqlite3_column_int64(st, 0);
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        out = dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.64s'", id);
    } else {
        out = store_error(v->db, rc, "cannot read history", err);
    }
    sqlite3_finalize(st);
    return out;
}

enum dft_err
dft_vault_prove(struct dft_vault *v, const char *id, json_t **out, struct dft_error *err)
{
    uint64_t index = 0, size = 0;
    unsigned char leaf[DFT_TLOG_HASH_BYTES];
    unsigned char proof[DFT_TLOG_PROOF_MAX][DFT_TLOG_HASH_BYTES];
    size_t n = 0;
    struct dft_buf note;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err rc;
    if ((rc = latest_index(v, id, &index, err)) == DFT_OK &&
        (rc = tlog_size(v->db, &size, err)) == DFT_OK &&
        (rc = tlog_leaf(v->db, index, leaf, err)) == DFT_OK &&
        (rc = tlog_prove_inclusion(v->db, index, size, proof, &n, err)) == DFT_OK &&
        (rc = dft_vault_checkpoint(v, size, &note, err)) == DFT_OK) {
        *out = json_pack("{sI sI so so ss#}", "index", (json_int_t)index, "size", (json_int_t)size,
                         "leaf_hash", hash_json(leaf), "proof", proof_json(proof, n), "checkpoint",
                         (const char *)note.data, (int)note.len);
        if (*out == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    dft_buf_release(&note);
    return rc;
}

enum dft_err
dft_vault_prove_consistency(struct dft_vault *v, uint64_t old_size, uint64_t new_size, json_t **out,
                            struct dft_error *err)
{
    unsigned char r1[DFT_TLOG_HASH_BYTES], r2[DFT_TLOG_HASH_BYTES];
    unsigned char proof[DFT_TLOG_PROOF_MAX][DFT_TLOG_HASH_BYTES];
    size_t n = 0;
    enum dft_err rc;
    if ((rc = tlog_prove_consistency(v->db, old_size, new_size, proof, &n, err)) != DFT_OK ||
        (rc = tlog_root(v->db, old_size, r1, err)) != DFT_OK ||
        (rc = tlog_root(v->db, new_size, r2, err)) != DFT_OK) {
        return rc;
    }
    *out = json_pack("{sI sI so so so}", "old_size", (json_int_t)old_size, "new_size",
                     (json_int_t)new_size, "old_root", hash_json(r1), "new_root", hash_json(r2),
                     "proof", proof_json(proof, n));
    return *out != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}
