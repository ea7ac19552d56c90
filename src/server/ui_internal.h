/*
 * ui_internal.h - what ui.c (HTTP server, security layer), api.c (JSON API) and the generated
 * asset table share inside src/server/. Not a public API.
 */
#ifndef DEFTER_SERVER_UI_INTERNAL_H
#define DEFTER_SERVER_UI_INTERNAL_H

#include <microhttpd.h>
#include <jansson.h>

#include "defter/core.h"
#include "defter/server.h"

struct dft_vault;

/* Secrets of a running server, in one sodium_malloc block (wiped by sodium_free). */
struct ui_secrets {
    char token[DFT_UI_TOKEN_HEX + 1];   /* one-time URL token; "" once exchanged */
    char session[DFT_UI_TOKEN_HEX + 1]; /* session cookie value; "" before the exchange */
    char csrf[DFT_UI_TOKEN_HEX + 1];    /* X-CSRF-Token value; "" before the exchange */
    char url[DFT_UI_URL_MAX];           /* http://127.0.0.1:PORT/?t=TOKEN */
};

struct dft_ui {
    struct MHD_Daemon *daemon; /* NULL once stopped */
    struct dft_vault *vault;   /* NULL while locked; used only by the server thread */
    char *dir;                 /* vault directory, for unlock */
    uint16_t port;             /* bound port */
    struct ui_secrets *sec;    /* sodium_malloc */
};

/* Per-request state, from the first call of the access handler to the completion callback. */
struct ui_req {
    struct dft_buf body;  /* request body (secure for /api/unlock), capped */
    const char *method;   /* static string for the log */
    const char *route;    /* static route label for the log: never the path itself */
    unsigned status;      /* HTTP status queued */
    unsigned refused : 1; /* a response was decided on the first call */
    unsigned too_large : 1;
    unsigned state_changing : 1;
};

/* Queue responses; every one carries the security headers. They set r->status. */
enum MHD_Result dft_ui_send(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                            const char *ctype, const void *data, size_t len, int copy);
/* Serialise obj (reference stolen) as the body. */
enum MHD_Result dft_ui_send_json(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                                 json_t *obj);
enum MHD_Result dft_ui_send_error(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                                  const char *msg);
/* Map a library error to a status and {"error": msg}. */
enum MHD_Result dft_ui_send_dft_error(struct MHD_Connection *c, struct ui_req *r,
                                      const struct dft_error *e);
unsigned dft_ui_status_of(enum dft_err code);

/* api.c: route a request under /api/ whose security checks passed. */
enum MHD_Result dft_ui_api(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                           const char *method, const char *path);

/* Generated from web/ at build time (build/<variant>/gen/web_assets.c). */
struct dft_web_asset {
    const char *path;          /* "/index.html" */
    const char *mime;          /* "text/html; charset=utf-8" */
    const unsigned char *data; /* bytes */
    size_t len;
};
const struct dft_web_asset *dft_web_asset_find(const char *path);

#endif
