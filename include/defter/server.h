/*
 * server.h - `defter ui`: the local web interface, served on 127.0.0.1 only.
 *
 * dft_ui_start listens on IPv4 loopback (never another address) and serves the embedded pages
 * of web/ and the JSON API under /api/ from one internal thread, so the vault is only ever used
 * by that thread while the server runs. Security layer (DESIGN.md, `defter ui`):
 *   - a one-time token of 256 random bits in the URL dft_ui_url returns; a plain GET of it
 *     sets an HttpOnly, SameSite=Strict session cookie and redirects to "/"; the token then
 *     stops working;
 *   - no session: 401; Host other than 127.0.0.1:PORT or localhost:PORT: 421;
 *   - POST/PATCH need a same-origin Origin and X-CSRF-Token equal to GET /api/session's "csrf";
 *   - every response carries a strict Content-Security-Policy and no-sniff/no-referrer/no-frame
 *     headers and Cache-Control: no-store; bodies, headers and paths are capped.
 * Evidence uploads (POST /api/records/ID/evidence, multipart/form-data with one "file" part)
 * stream into an encrypted object as they arrive: no plaintext temporary file, nothing kept
 * when the body is malformed, truncated or too large. GET /api/evidence/ID/content decrypts only
 * the requested byte range (206) and records a custody operation once per session and event.
 * "Lock" (POST /api/lock) closes the vault, wiping its keys; POST /api/unlock reopens it with a
 * passphrase posted by the page.
 *
 * Logs one line per request through dft_log (method, route, status): never paths with user
 * data, query strings, bodies or secrets.
 */
#ifndef DEFTER_SERVER_H
#define DEFTER_SERVER_H

#include <stdint.h>

#include "defter/core.h"

struct dft_vault;
struct dft_ui;

#define DFT_UI_BODY_MAX   (4u << 20) /* bytes of one JSON request body */
#define DFT_UI_URL_MAX    128        /* bytes of the token URL incl. NUL */
#define DFT_UI_TOKEN_HEX  64         /* hex digits of the token, the session id and CSRF token */
#define DFT_UI_UPLOAD_MAX (UINT64_C(4) << 30) /* default bytes of one uploaded evidence file */

/*
 * Start serving. v is an open vault (or NULL to start locked) and is TAKEN: from now on the
 * server owns it and closes it on lock or in dft_ui_free. dir is the vault directory (copied),
 * used to reopen the vault on unlock. port 0 lets the system choose. On failure v is closed
 * too and *out is NULL (DFT_ERR_IO when the port cannot be bound).
 */
DFT_EXPORT enum dft_err dft_ui_start(struct dft_ui **out, struct dft_vault *v, const char *dir,
                                     uint16_t port, struct dft_error *err) DFT_MUST_CHECK;

/* The one-time URL http://127.0.0.1:PORT/?t=TOKEN (valid until dft_ui_free). */
DFT_EXPORT const char *dft_ui_url(const struct dft_ui *ui);

/*
 * Cap one uploaded evidence file at max bytes (default DFT_UI_UPLOAD_MAX): a larger upload is
 * refused with 413 and nothing is stored. Call before serving requests.
 */
DFT_EXPORT void dft_ui_set_upload_max(struct dft_ui *ui, uint64_t max);

/* The port actually bound. */
DFT_EXPORT uint16_t dft_ui_port(const struct dft_ui *ui);

/*
 * Block the calling thread until SIGINT or SIGTERM arrives (the caller must have blocked both
 * signals in every thread before dft_ui_start, so the server thread never takes them).
 */
DFT_EXPORT void dft_ui_run(struct dft_ui *ui);

/*
 * For the unlock agent, which serves the UI from its own process. Call both under the agent's
 * gate. dft_ui_vault: the UI's open vault (borrowed; NULL while locked in the page).
 * dft_ui_take_vault: the same, now the caller's (the UI is locked from then on).
 */
DFT_EXPORT struct dft_vault *dft_ui_vault(struct dft_ui *ui);
DFT_EXPORT struct dft_vault *dft_ui_take_vault(struct dft_ui *ui);

/* Stop serving, close the vault (wiping its keys) and free everything. NULL allowed. */
DFT_EXPORT void dft_ui_free(struct dft_ui *ui);

#endif
