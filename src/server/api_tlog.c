/*
 * api_tlog.c - the transparency log in `defter ui`: the current signed checkpoint and the
 * inclusion proof of a record, in the JSON `defter prove ID --json` prints (src/cli/cmd_tlog.c),
 * so a proof downloaded from the browser checks with the same independent verifier.
 *
 * Read-only: never writes to the vault. Runs on the server thread after ui.c's checks.
 */
#include <string.h>

#include "defter/vault.h"
#include "server/ui_internal.h"

#define DISPOSITION_MAX (DFT_ID_MAX + 64)

enum MHD_Result
ui_checkpoint(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct dft_error e;
    struct dft_buf note;
    json_t *id = NULL;
    uint64_t size = 0;
    enum MHD_Result ret;
    dft_error_clear(&e);
    dft_buf_init(&note, DFT_CHECKPOINT_MAX_BYTES, 0);
    if (dft_vault_checkpoint_current(ui->vault, &note, &size, &e) != DFT_OK ||
        dft_vault_identity(ui->vault, &id, &e) != DFT_OK) {
        ret = ui_send_dft_error(c, r, &e);
        goto out;
    }
    ret = ui_send_json(c, r, 200,
                       json_pack("{sI sO sO ss#}", "size", (json_int_t)size, "origin",
                                 json_object_get(id, "origin"), "vkey", json_object_get(id, "vkey"),
                                 "checkpoint", (const char *)note.data, (int)note.len));
out:
    json_decref(id);
    dft_buf_release(&note);
    return ret;
}

enum MHD_Result
ui_proof(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *id,
         int download)
{
    struct dft_error e;
    json_t *o = NULL;
    char disp[DISPOSITION_MAX];
    dft_error_clear(&e);
    if (dft_vault_prove(ui->vault, id, &o, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    /* id passed ui_id_ok: ASCII letters, digits, '_' and '-' only */
    snprintf(disp, sizeof disp, "attachment; filename=\"defter-proof-%s.json\"", id);
    return ui_send_json_as(c, r, 200, o, download ? disp : NULL);
}
