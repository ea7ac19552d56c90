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
struct ui_upload;
struct ui_seen;

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
    uint64_t upload_max;       /* bytes of one evidence file uploaded */
    unsigned lock_gen;         /* bumped on every lock: uploads and streams begun before stop */
    struct ui_seen *seen;      /* custody already recorded this session (api_evidence.c) */
};

/* Per-request state, from the first call of the access handler to the completion callback. */
struct ui_req {
    struct dft_buf body;      /* request body (secure for /api/unlock), capped */
    const char *method;       /* static string for the log */
    const char *route;        /* static route label for the log: never the path itself */
    unsigned status;          /* HTTP status queued */
    uint64_t body_cap;        /* Content-Length above this: 413 before reading */
    struct ui_upload *upload; /* evidence upload in progress (api_evidence.c), or NULL */
    unsigned refused : 1;     /* a response was decided on the first call */
    unsigned too_large : 1;
    unsigned state_changing : 1;
    unsigned is_upload : 1; /* POST /api/records/ID/evidence: the body streams to an object */
};

/* Queue responses; every one carries the security headers. They set r->status. */
enum MHD_Result ui_send(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                        const char *ctype, const void *data, size_t len, int copy);
/* Serialise obj (reference stolen) as the body. */
enum MHD_Result ui_send_json(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                             json_t *obj);
enum MHD_Result ui_send_error(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                              const char *msg);
/* Map a library error to a status and {"error": msg}. */
enum MHD_Result ui_send_dft_error(struct MHD_Connection *c, struct ui_req *r,
                                  const struct dft_error *e);
unsigned ui_status_of(enum dft_err code);

/* Security headers of every response; csp NULL: the pages' policy. frame: X-Frame-Options. */
void ui_security_headers(struct MHD_Response *resp, const char *csp, const char *frame);
/* Like ui_send_json, with a Content-Disposition header when disposition is not NULL. */
enum MHD_Result ui_send_json_as(struct MHD_Connection *c, struct ui_req *r, unsigned status,
                                json_t *obj, const char *disposition);
/* 1 when s[0..n) can be a record or evidence id (short ASCII token). */
int ui_id_ok(const char *s, size_t n);

/* ---- api_evidence.c: uploads (streamed into an object), viewing with byte ranges ---- */

/* 1 when method and url are an evidence upload (its body must not be buffered). */
int ui_upload_route(const char *method, const char *url);
/*
 * First call of an upload whose security checks passed: check the vault, the record and the
 * multipart type, open the writer. 1 when a refusal was queued into *ret.
 */
int ui_upload_begin(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *url,
                    enum MHD_Result *ret);
/* Feed body bytes (errors are remembered and answered at the end; the writer is dropped). */
void ui_upload_feed(struct dft_ui *ui, struct ui_req *r, const char *data, size_t n);
/* The body ended: place the object, record it, answer. */
enum MHD_Result ui_upload_finish(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r);
/* Drop an upload that never finished (connection closed, refused): nothing is kept. */
void ui_upload_abort(struct ui_req *r);
/* GET /api/evidence/ID/content: decrypt the requested range, custody once per session. */
enum MHD_Result ui_evidence_content(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                                    const char *evid, int head);
/* Forget which evidence had custody recorded (lock, free). */
void ui_seen_clear(struct dft_ui *ui);

/* ---- api_tlog.c: the transparency log for the integrity page ---- */

enum MHD_Result ui_checkpoint(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r);
/* Inclusion proof of the latest envelope touching id: the JSON of `defter prove ID --json`. */
enum MHD_Result ui_proof(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                         const char *id, int download);

/* api.c: route a request under /api/ whose security checks passed. */
/* api_daily.c: schema, list, export, import, restore, history; 404 when nothing matches. */
enum MHD_Result dft_ui_api_daily(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                                 const char *method, const char *rest);
enum MHD_Result ui_api(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r,
                       const char *method, const char *path);

/* Generated from web/ at build time (build/<variant>/gen/web_assets.c). */
struct dft_web_asset {
    const char *path;          /* "/index.html" */
    const char *mime;          /* "text/html; charset=utf-8" */
    const unsigned char *data; /* bytes */
    size_t len;
};
const struct dft_web_asset *web_asset_find(const char *path);

#endif
