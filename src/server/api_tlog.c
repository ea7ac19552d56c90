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
        dft_vault_checkpoint(ui->vault, size, &note, &e) != DFT_OK) {
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

enum MHD_Result
dft_ui_proof(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *id,
             int download)
{
    struct dft_error e;
    json_t *o = NULL;
    char disp[DISPOSITION_MAX];
    dft_error_clear(&e);
    if (dft_vault_prove(ui->vault, id, &o, &e) != DFT_OK) {
        return dft_ui_send_dft_error(c, r, &e);
    }
    /* id passed dft_ui_id_ok: ASCII letters, digits, '_' and '-' only */
    snprintf(disp, sizeof disp, "attachment; filename=\"defter-proof-%s.json\"", id);
    return dft_ui_send_json_as(c, r, 200, o, download ? disp : NULL);
}
