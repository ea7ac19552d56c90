/*
 * ui_open.h - hooks of ui_open.c for ui.c: the POST /open route and the page without a session.
 */
#ifndef DEFTER_SERVER_UI_OPEN_H
#define DEFTER_SERVER_UI_OPEN_H

#include <microhttpd.h>

struct dft_ui;
struct ui_req;

/* POST /open with the published key: a new one-time URL. 1 when it answered (into *ret). */
int dft_ui_open_route(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                      const char *method, const char *path, enum MHD_Result *ret);

/* An HTML page in the browser's language saying what to do: used (a used link) or no link. */
enum MHD_Result dft_ui_send_help_page(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                                      int used);

#endif
