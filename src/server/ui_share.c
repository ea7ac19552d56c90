/*
 * ui_share.c - the UI's vault, lent to and taken back by the unlock agent (src/cli/cmd_agent.c),
 * which serves `defter ui` and command requests from one process under one gate.
 *
 * It must never be called outside the agent's gate (src/agent/gate.c).
 */
#include "server/ui_internal.h"

struct dft_vault *
dft_ui_vault(struct dft_ui *ui)
{
    return ui->vault;
}

struct dft_vault *
dft_ui_take_vault(struct dft_ui *ui)
{
    struct dft_vault *v = ui->vault;
    ui->vault = NULL;
    ui->lock_gen++; /* uploads and evidence streams begun with it stop, as on a lock */
    ui_seen_clear(ui);
    return v;
}
