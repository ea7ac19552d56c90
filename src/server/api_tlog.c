/*
 * api_tlog.c - the transparency log in `defter ui`: the current signed checkpoint and the
 * inclusion proof of a record, in the JSON `defter prove ID --json` prints (src/cli/cmd_tlog.c),
 * so a proof downloaded from the browser checks with the same independent verifier.
 *
 * Read-only: never writes to the vault. Runs on the server thread after ui.c's checks.
 */
#include <string.h>

#include "defter/tlog.h"
#include "defter/vault.h"
#include "server/ui_internal.h"

#define DISPOSITION_MAX (DFT_ID_MAX + 64)

/* The signed checkpoint of the tree of size leaves, appended to out (as the CLI signs it). */
static enum dft_err
signed_checkpoint(struct dft_vault *v, uint64_t size, struct dft_buf *out, struct dft_error *err)
{
    const struct dft_keys *k = dft_vault_keys(v);
    struct dft_checkpoint c;
    memset(&c, 0, sizeof c);
    dft_tlog_origin(c.origin, k->sign_pk);
    c.size = size;
    enum dft_err rc = dft_tlog_root(dft_vault_db(v), size, c.root, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return dft_checkpoint_sign(out, &c, k->sign_sk, err);
}

static json_t *
hash_json(const unsigned char h[DFT_TLOG_HASH_BYTES])
{
    char b64[DFT_TLOG_HASH_B64];
    dft_tlog_hash_encode(b64, h);
    return json_string(b64);
}

enum MHD_Result
dft_ui_checkpoint(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct dft_error e;
    struct dft_buf note;
    struct dft_note_verifier ver;
    char vkey[DFT_NOTE_VKEY_MAX], origin[DFT_TLOG_ORIGIN_BYTES];
    uint64_t size = 0;
    enum MHD_Result ret;
    dft_error_clear(&e);
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    const struct dft_keys *k = dft_vault_keys(ui->vault);
    if (dft_tlog_size(dft_vault_db(ui->vault), &size, &e) != DFT_OK ||
        signed_checkpoint(ui->vault, size, &note, &e) != DFT_OK) {
        ret = dft_ui_send_dft_error(c, r, &e);
        goto out;
    }
    dft_tlog_origin(origin, k->sign_pk);
    dft_tlog_log_verifier(&ver, k->sign_pk);
    dft_note_verifier_format(&ver, vkey);
    ret = dft_ui_send_json(c, r, 200,
                           json_pack("{sI ss ss ss#}", "size", (json_int_t)size, "origin", origin,
                                     "vkey", vkey, "checkpoint", (const char *)note.data,
                                     (int)note.len));
out:
    dft_buf_release(&note);
    return ret;
}

/*
 * Index of the latest envelope touching id (as `defter prove` chooses it). The same query as
 * src/cli/cmd_tlog.c, which the library cannot call.
 */
static enum dft_err
latest_index(struct dft_vault *v, const char *id, uint64_t *index, struct dft_error *err)
{
    sqlite3 *db = dft_vault_db(v);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT max(idx) FROM history WHERE record = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        return dft_fail(err, DFT_ERR_INTERNAL, "cannot read history");
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    enum dft_err out = DFT_OK;
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL) {
        out = dft_fail(err, DFT_ERR_NOT_FOUND, "no record '%.64s'", id);
    } else {
        *index = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return out;
}

enum MHD_Result
dft_ui_proof(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *id,
             int download)
{
    struct dft_error e;
    struct dft_buf note;
    sqlite3 *db = dft_vault_db(ui->vault);
    uint64_t index = 0, size = 0;
    unsigned char leaf[DFT_TLOG_HASH_BYTES];
    unsigned char proof[DFT_TLOG_PROOF_MAX][DFT_TLOG_HASH_BYTES];
    size_t n = 0;
    char disp[DISPOSITION_MAX];
    enum MHD_Result ret;
    dft_error_clear(&e);
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    if (latest_index(ui->vault, id, &index, &e) != DFT_OK ||
        dft_tlog_size(db, &size, &e) != DFT_OK || dft_tlog_leaf(db, index, leaf, &e) != DFT_OK ||
        dft_tlog_prove_inclusion(db, index, size, proof, &n, &e) != DFT_OK ||
        signed_checkpoint(ui->vault, size, &note, &e) != DFT_OK) {
        ret = dft_ui_send_dft_error(c, r, &e);
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        (void)json_array_append_new(arr, hash_json(proof[i]));
    }
    json_t *o = json_pack("{sI sI so so ss#}", "index", (json_int_t)index, "size", (json_int_t)size,
                          "leaf_hash", hash_json(leaf), "proof", arr, "checkpoint",
                          (const char *)note.data, (int)note.len);
    /* id passed dft_ui_id_ok: ASCII letters, digits, '_' and '-' only */
    snprintf(disp, sizeof disp, "attachment; filename=\"defter-proof-%s.json\"", id);
    ret = dft_ui_send_json_as(c, r, 200, o, download ? disp : NULL);
out:
    dft_buf_release(&note);
    return ret;
}
