/*
 * ui.c - the HTTP server of `defter ui` and its security layer (token exchange, session
 * cookie, Host/Origin/CSRF checks, security headers, caps), serving embedded assets and handing
 * /api/ to api.c.
 *
 * It listens on 127.0.0.1 only and runs every handler on one libmicrohttpd thread, so the
 * vault is never used concurrently. It must never bind another address, serve anything before
 * the session check passed (except the token exchange), log paths, queries, bodies or secrets,
 * or compare secrets with memcmp.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "agent/agent.h"
#include "defter/vault.h"
#include "server/http_parse.h"
#include "crypto/secpool.h"
#include "server/ui_internal.h"
#include "server/ui_open.h"

#define COOKIE_NAME "defter_session"
#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "              \
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "             \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
/*
 * Per-connection memory: caps the request line and headers. Above 32 KiB libmicrohttpd 0.9.75
 * maps each connection's pool on its own (mmap) and unmaps it when the connection closes, so a
 * search query or a header never stays behind in the heap (strace shows the 64 KiB
 * mmap/munmap pair per connection); keep it above 32 KiB.
 */
#define HEADER_MEMORY   (64u * 1024u)
#define CONNECTIONS_MAX 64
#define IDLE_SECONDS    60
#define UPLOAD_OVERHEAD (64u * 1024u) /* multipart boundaries and part headers around a file */

/* ---- responses ---- */

struct owned_body {
    size_t len;
    unsigned char data[];
};

static void
wipe_free(void *cls)
{
    crypto_secpool_free(cls); /* wipes: the body may hold record JSON */
}

void
ui_security_headers(struct MHD_Response *resp, const char *csp, const char *frame)
{
    (void)MHD_add_response_header(resp, "Content-Security-Policy", csp != NULL ? csp : CSP);
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    (void)MHD_add_response_header(resp, "X-Frame-Options", frame != NULL ? frame : "DENY");
    (void)MHD_add_response_header(resp, "Cache-Control", "no-store");
    (void)MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    (void)MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    (void)MHD_add_response_header(resp, "Permissions-Policy",
                                  "camera=(), microphone=(), geolocation=()");
}

static void
add_security_headers(struct MHD_Response *resp)
{
    ui_security_headers(resp, NULL, NULL);
}

static enum MHD_Result
send_body(struct MHD_Connection *c, struct ui_req *r, unsigned status, const char *ctype,
          const void *data, size_t len, int copy, const char *disposition)
{
    struct MHD_Response *resp;
    if (copy) {
        struct owned_body *b = crypto_secpool_alloc(sizeof *b + len + 1);
        if (b == NULL) {
            return MHD_NO;
        }
        b->len = len;
        if (len > 0) {
            memcpy(b->data, data, len);
        }
        resp = MHD_create_response_from_buffer_with_free_callback_cls(len, b->data, wipe_free, b);
        if (resp == NULL) {
            wipe_free(b);
            return MHD_NO;
        }
    } else {
        resp =
            MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
        if (resp == NULL) {
            return MHD_NO;
        }
    }
    add_security_headers(resp);
    if (ctype != NULL) {
        (void)MHD_add_response_header(resp, "Content-Type", ctype);
    }
    if (disposition != NULL) {
        (void)MHD_add_response_header(resp, "Content-Disposition", disposition);
    }
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result
ui_send(struct MHD_Connection *c, struct ui_req *r, unsigned status, const char *ctype,
        const void *data, size_t len, int copy)
{
    return send_body(c, r, status, ctype, data, len, copy, NULL);
}

enum MHD_Result
ui_send_json(struct MHD_Connection *c, struct ui_req *r, unsigned status, json_t *obj)
{
    return ui_send_json_as(c, r, status, obj, NULL);
}

enum MHD_Result
ui_send_json_as(struct MHD_Connection *c, struct ui_req *r, unsigned status, json_t *obj,
                const char *disposition)
{
    char *s;
    size_t len;
    enum MHD_Result ret;
    if (obj == NULL) {
        return ui_send_error(c, r, 500, "out of memory");
    }
    s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(obj);
    if (s == NULL) {
        return ui_send(c, r, 500, "application/json", "{\"error\":\"out of memory\"}", 25, 0);
    }
    len = strlen(s);
    ret = send_body(c, r, status, "application/json", s, len, 1, disposition);
    sodium_memzero(s, len);
    dft_json_string_free(s);
    return ret;
}

enum MHD_Result
ui_send_error(struct MHD_Connection *c, struct ui_req *r, unsigned status, const char *msg)
{
    return ui_send_json(c, r, status, json_pack("{s:s}", "error", msg));
}

unsigned
ui_status_of(enum dft_err code)
{
    switch (code) {
    case DFT_OK:
        return 200;
    case DFT_ERR_USAGE:
    case DFT_ERR_INPUT:
        return 400;
    case DFT_ERR_PASSPHRASE:
        return 403;
    case DFT_ERR_NOT_FOUND:
        return 404;
    case DFT_ERR_BUSY:
        return 409;
    case DFT_ERR_TOO_LARGE:
        return 413;
    default:
        return 500;
    }
}

enum MHD_Result
ui_send_dft_error(struct MHD_Connection *c, struct ui_req *r, const struct dft_error *e)
{
    const char *msg = e->msg[0] ? e->msg : dft_strerror(e->code);
    return ui_send_error(c, r, ui_status_of(e->code), msg);
}

/* ---- request handling ---- */

static const char *
method_label(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(m, known[i]) == 0) {
            return known[i];
        }
    }
    return "OTHER";
}

static int
has_session(struct dft_ui *ui, struct MHD_Connection *c)
{
    const char *cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE);
    const char *val;
    size_t len;
    if (ui->sec->session[0] == '\0' || cookie == NULL) {
        return 0;
    }
    if (!http_cookie_find(cookie, COOKIE_NAME, &val, &len)) {
        return 0;
    }
    return http_token_eq(val, len, ui->sec->session);
}

static void
random_hex(char out[DFT_UI_TOKEN_HEX + 1])
{
    unsigned char raw[DFT_UI_TOKEN_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    dft_hex_encode(out, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

/* GET /?t=TOKEN: trade the one-time token for the session cookie, then redirect to "/". */
static enum MHD_Result
exchange_token(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *t)
{
    char cookie[sizeof COOKIE_NAME + DFT_UI_TOKEN_HEX + 64];
    struct MHD_Response *resp;
    enum MHD_Result ret;
    r->route = "token";
    if (!http_token_eq(t, strlen(t), ui->sec->token)) {
        return dft_ui_send_help_page(c, r, 403, 1); /* ui_open.c: what to do, in a page */
    }
    sodium_memzero(ui->sec->token, sizeof ui->sec->token); /* single use */
    random_hex(ui->sec->session);
    random_hex(ui->sec->csrf);
    int n = snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/", COOKIE_NAME,
                     ui->sec->session);
    if (n < 0 || (size_t)n >= sizeof cookie) {
        return MHD_NO;
    }
    resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        sodium_memzero(cookie, sizeof cookie);
        return MHD_NO;
    }
    add_security_headers(resp);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/");
    sodium_memzero(cookie, sizeof cookie);
    r->status = 303;
    ret = MHD_queue_response(c, 303, resp);
    MHD_destroy_response(resp);
    dft_log(DFT_LOG_INFO, "ui: session opened");
    return ret;
}

static enum MHD_Result
serve_asset(struct MHD_Connection *c, struct ui_req *r, const char *method, const char *path)
{
    const struct dft_web_asset *a;
    r->route = "asset";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return ui_send_error(c, r, 405, "method not allowed");
    }
    a = web_asset_find(strcmp(path, "/") == 0 ? "/index.html" : path);
    if (a == NULL) {
        return ui_send_error(c, r, 404, "not found");
    }
    return ui_send(c, r, 200, a->mime, a->data, a->len, 0);
}

/*
 * First call of a request: every check that needs only the request line and headers. Returns
 * 1 when a response was queued (the request is refused or fully answered) into *ret.
 */
static int
check_request(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r, const char *method,
              const char *path, enum MHD_Result *ret)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int change = strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0;

    if (!http_host_ok(host, ui->port)) {
        r->route = "bad-host";
        *ret = ui_send_error(c, r, 421, "misdirected request");
        return 1;
    }
    if (!dft_http_fetch_site_ok(
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site"))) {
        /* before the token exchange too: no request from another site changes anything */
        r->route = "cross-site";
        *ret = ui_send_error(c, r, 403, "cross-site request refused");
        return 1;
    }
    if (!get && !change) {
        r->route = "bad-method";
        *ret = ui_send_error(c, r, 405, "method not allowed");
        return 1;
    }
    if (!http_path_ok(path)) {
        r->route = "bad-path";
        *ret = ui_send_error(c, r, 400, "bad path");
        return 1;
    }
    if (dft_ui_open_route(ui, c, r, method, path, ret)) { /* ui_open.c: `defter ui --open` */
        return 1;
    }
    if (get && strcmp(path, "/") == 0) {
        const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "t");
        if (t != NULL) {
            *ret = exchange_token(ui, c, r, t);
            return 1;
        }
    }
    if (!has_session(ui, c)) {
        r->route = "no-session";
        if (get && strncmp(path, "/api/", 5) != 0) {
            *ret = dft_ui_send_help_page(c, r, 401, 0); /* ui_open.c */
            return 1;
        }
        *ret = ui_send(c, r, 401, "text/plain; charset=utf-8",
                       "no session: open the link that `defter ui` printed\n", 51, 0);
        return 1;
    }
    if (change) {
        const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
        const char *csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
        r->state_changing = 1;
        if (!http_origin_ok(origin, host)) {
            r->route = "bad-origin";
            *ret = ui_send_error(c, r, 403, "cross-origin request refused");
            return 1;
        }
        if (csrf == NULL || !http_token_eq(csrf, strlen(csrf), ui->sec->csrf)) {
            r->route = "bad-csrf";
            *ret = ui_send_error(c, r, 403, "missing or wrong CSRF token");
            return 1;
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end == cl || *end != '\0' || n > r->body_cap) {
                r->route = "too-large";
                *ret = ui_send_error(c, r, 413, "request body too large");
                return 1;
            }
        }
    }
    return 0;
}

static enum MHD_Result
on_request_gated(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                 const char *version, const char *upload_data, size_t *upload_data_size,
                 void **req_cls)
{
    struct dft_ui *ui = cls;
    struct ui_req *r = *req_cls;
    enum MHD_Result ret;
    (void)version;

    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL) {
            return MHD_NO;
        }
        *req_cls = r;
        r->method = method_label(method);
        r->route = "-";
        int unlock = strcmp(url, "/api/unlock") == 0;
        r->is_upload = ui_upload_route(method, url) ? 1u : 0u;
        dft_buf_init(&r->body,
                     unlock         ? DFT_PASSPHRASE_MAX
                     : r->is_upload ? 0
                                    : DFT_UI_BODY_MAX,
                     !r->is_upload); /* passphrase or record JSON: locked and wiped */
        r->body_cap = r->is_upload ? ui->upload_max + UPLOAD_OVERHEAD : r->body.max;
        if (check_request(ui, c, r, method, url, &ret) ||
            (r->is_upload && ui_upload_begin(ui, c, r, url, &ret))) {
            r->refused = 1;
            return ret;
        }
        return MHD_YES; /* wait for the body (or its absence) */
    }
    if (r->refused) {
        *upload_data_size = 0; /* discard whatever follows */
        return MHD_YES;
    }
    if (*upload_data_size > 0 && r->is_upload) {
        ui_upload_feed(ui, r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->is_upload) {
        return ui_upload_finish(ui, c, r);
    }
    if (*upload_data_size > 0) {
        if (!r->too_large && dft_buf_add(&r->body, upload_data, *upload_data_size) != DFT_OK) {
            r->too_large = 1;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        r->route = "too-large";
        return ui_send_error(c, r, 413, "request body too large");
    }
    if (strncmp(url, "/api/", 5) == 0) {
        return ui_api(ui, c, r, method, url);
    }
    if (r->state_changing) {
        return ui_send_error(c, r, 405, "method not allowed");
    }
    return serve_asset(c, r, method, url);
}

/* Every handler runs under the gate: an unlock agent shares the vault with command requests. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    agent_gate_enter();
    enum MHD_Result ret =
        on_request_gated(cls, c, url, method, version, upload_data, upload_data_size, req_cls);
    agent_gate_leave();
    return ret;
}

static void
on_completed_gated(void *cls, struct MHD_Connection *c, void **req_cls,
                   enum MHD_RequestTerminationCode toe)
{
    struct ui_req *r = *req_cls;
    (void)cls;
    (void)c;
    if (r == NULL) {
        return;
    }
    dft_log(DFT_LOG_INFO, "ui: %s %s %u%s", r->method, r->route, r->status,
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    ui_upload_abort(r); /* a truncated or refused upload keeps nothing */
    if (r->body.data != NULL && !r->body.secure) {
        sodium_memzero(r->body.data, r->body.len);
    }
    dft_buf_release(&r->body);
    free(r);
    *req_cls = NULL;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    agent_gate_enter();
    on_completed_gated(cls, c, req_cls, toe);
    agent_gate_leave();
}

static size_t
on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return http_unescape(s);
}

/* ---- lifecycle ---- */

enum dft_err
dft_ui_start(struct dft_ui **out, struct dft_vault *v, const char *dir, uint16_t port,
             struct dft_error *err)
{
    struct dft_ui *ui = NULL;
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    enum dft_err rc = DFT_OK;

    *out = NULL;
    if (sodium_init() < 0) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot initialise libsodium");
        goto out;
    }
    ui = calloc(1, sizeof *ui);
    if (ui == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    ui->vault = v;
    v = NULL;
    ui->dir = strdup(dir);
    ui->sec = sodium_malloc(sizeof *ui->sec);
    if (ui->dir == NULL || ui->sec == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memset(ui->sec, 0, sizeof *ui->sec);
    random_hex(ui->sec->token);
    ui->upload_max = DFT_UI_UPLOAD_MAX;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ui->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, on_request, ui,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HEADER_MEMORY, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_SECONDS, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, ui, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_UNESCAPE_CALLBACK,
        on_unescape, NULL, MHD_OPTION_END);
    if (ui->daemon == NULL) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot listen on 127.0.0.1 port %u", (unsigned)port);
        goto out;
    }
    info = MHD_get_daemon_info(ui->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot find the port bound");
        goto out;
    }
    ui->port = info->port;
    int n = snprintf(ui->sec->url, sizeof ui->sec->url, "http://127.0.0.1:%u/?t=%s",
                     (unsigned)ui->port, ui->sec->token);
    if (n < 0 || (size_t)n >= sizeof ui->sec->url) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "url too long");
        goto out;
    }
    *out = ui;
    ui = NULL;
out:
    dft_vault_close(v);
    dft_ui_free(ui);
    return rc;
}

const char *
dft_ui_url(const struct dft_ui *ui)
{
    return ui->sec->url;
}

void
dft_ui_set_upload_max(struct dft_ui *ui, uint64_t max)
{
    ui->upload_max = max;
}

uint16_t
dft_ui_port(const struct dft_ui *ui)
{
    return ui->port;
}

void
dft_ui_run(struct dft_ui *ui)
{
    sigset_t set;
    int sig = 0;
    (void)ui;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)sigwait(&set, &sig);
}

void
dft_ui_free(struct dft_ui *ui)
{
    if (ui == NULL) {
        return;
    }
    if (ui->daemon != NULL) {
        MHD_stop_daemon(ui->daemon);
        ui->daemon = NULL;
    }
    dft_vault_close(ui->vault);
    ui->vault = NULL;
    ui_seen_clear(ui);
    free(ui->dir);
    if (ui->sec != NULL) {
        sodium_free(ui->sec);
    }
    free(ui);
}
