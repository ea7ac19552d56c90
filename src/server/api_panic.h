/*
 * api_panic.h - POST /api/panic: the web page's hold-to-confirm panic button.
 */
#ifndef DEFTER_SERVER_API_PANIC_H
#define DEFTER_SERVER_API_PANIC_H

#include "server/ui_internal.h"

/*
 * Wipe the vault's keys in memory, then do what `defter panic` does (dft_vault_panic: every
 * header copy overwritten and fsynced, other holders stopped), answer {"wiped":true,...} and
 * stop this server shortly after (SIGTERM to itself, so an agent serving the page stops too).
 * Works locked. Reached only through the checks of every state-changing request (session,
 * Sec-Fetch-Site, Origin, X-CSRF-Token).
 */
enum MHD_Result ui_api_panic(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r);

/*
 * 1 when the vault is camouflaged (`init --camouflage`): the page then shows a neutral cover
 * instead of the unlock form while locked (web/js/cover.js).
 */
int ui_cover(const struct dft_ui *ui);

#endif
