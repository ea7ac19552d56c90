/*
 * ui_open.h - a fresh one-time link to a running `defter ui` (`defter ui --open`).
 *
 * The running UI publishes "PORT KEY" in a 0600 file of the user ($XDG_RUNTIME_DIR, else the
 * vault directory); a second process on the same account reads it and asks the UI, over
 * loopback, for a new one-time URL. See src/server/ui_open.c.
 */
#ifndef DEFTER_UI_OPEN_H
#define DEFTER_UI_OPEN_H

#include <stddef.h>

#include "defter/core.h"
#include "defter/server.h"

/* Publish the running ui's port and a fresh key for vault_dir (one UI per process). */
DFT_EXPORT enum dft_err dft_ui_open_publish(struct dft_ui *ui, const char *vault_dir,
                                            struct dft_error *err) DFT_MUST_CHECK;

/* Remove the published file and wipe the key. */
DFT_EXPORT void dft_ui_open_unpublish(void);

/* Ask the UI running on vault_dir for a fresh URL, copied to url_out (max bytes). */
DFT_EXPORT enum dft_err dft_ui_open_request(const char *vault_dir, char *url_out, size_t max,
                                            struct dft_error *err) DFT_MUST_CHECK;

#endif
