/*
 * witness_http.c - the HTTP front of `defter witness serve` (libmicrohttpd): routes
 * POST <prefix>/add-checkpoint and GET <prefix>/<hex SHA-256(origin)>/checkpoint to
 * witness_store.c, with caps on bodies (64 KiB, 413), headers (connection memory), connections
 * in all and per address, idle timeouts, and token-bucket rate limits per client address and
 * per log (429 with Retry-After).
 *
 * It must never log bodies or checkpoints (one line per request: method, route, status), and
 * never answer before the store has made the new state durable.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "defter/net.h"
#include "log/witness_req.h"
#include "server/witness.h"
#include "server/witness_internal.h"

#define HEADER_MEMORY (32u * 1024u) /* per-connection memory: caps request line and headers */

struct witness_server {
    struct MHD_Daemon *daemon;
    struct witness_store store;
    struct dft_ratelimit *rl_ip, *rl_origin;
    char prefix[128];
    char url[192];
};

/* ---- rate limits ---- */

/* ---- requests ---- */

struct req {
    struct dft_buf body;
    int too_large;
    int limited;
    int refused; /* answered before the body */
    unsigned retry_after;
};

static enum MHD_Result
send_answer(struct MHD_Connection *c, struct witness_answer *a)
{
    void *copy = malloc(a->body.len + 1);
    if (copy == NULL) {
        return MHD_NO;
    }
    if (a->body.len > 0) {
        memcpy(copy, a->body.data, a->body.len);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(a->body.len, copy, free);
    if (resp == NULL) {
        free(copy);
        return MHD_NO;
    }
    (void)MHD_add_response_header(resp, "Content-Type", a->ctype);
    (void)MHD_add_response_header(resp, "Cache-Control", "no-store");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (a->status == 429 || a->status == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", a->retry_after > 0 ? a->retry_after : 1);
        (void)MHD_add_response_header(resp, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(c, a->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result
send_text(struct MHD_Connection *c, unsigned status, const char *text, unsigned retry_after)
{
    dft_log(DFT_LOG_INFO, "witness refused a request: %u", status);
    struct witness_answer a;
    dft_buf_init(&a.body, 4096, 0);
    a.status = status;
    a.ctype = "text/plain; charset=utf-8";
    a.retry_after = retry_after;
    if (dft_buf_adds(&a.body, text) != DFT_OK || dft_buf_add(&a.body, "\n", 1) != DFT_OK) {
        dft_buf_release(&a.body);
        return MHD_NO;
    }
    enum MHD_Result ret = send_answer(c, &a);
    dft_buf_release(&a.body);
    return ret;
}

static void
client_ip(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci == NULL || ci->client_addr == NULL) {
        return;
    }
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sa = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &sa->sin_addr, out, INET6_ADDRSTRLEN);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)(const void *)ci->client_addr;
        inet_ntop(AF_INET6, &sa->sin6_addr, out, INET6_ADDRSTRLEN);
    }
}

/* The route of url below the prefix: 1 add-checkpoint, 2 checkpoint (hex in out), 0 none. */
static int
route(const struct witness_server *s, const char *url, char hex[65])
{
    size_t pl = strlen(s->prefix);
    if (strncmp(url, s->prefix, pl) != 0) {
        return 0;
    }
    const char *rest = url + pl;
    if (strcmp(rest, "/add-checkpoint") == 0) {
        return 1;
    }
    if (strlen(rest) == 1 + 64 + 11 && rest[0] == '/' && strcmp(rest + 65, "/checkpoint") == 0) {
        for (int i = 0; i < 64; i++) {
            char ch = rest[1 + i];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
                return 0;
            }
            hex[i] = ch;
        }
        hex[64] = '\0';
        return 2;
    }
    return 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    struct witness_server *s = cls;
    struct req *r = *req_cls;
    char hex[65];
    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL) {
            return MHD_NO;
        }
        dft_buf_init(&r->body, WITNESS_BODY_MAX, 0);
        *req_cls = r;
        char ip[INET6_ADDRSTRLEN];
        client_ip(c, ip);
        if (!dft_ratelimit_take(s->rl_ip, ip, &r->retry_after)) {
            r->limited = 1;
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl != NULL && strtoull(cl, NULL, 10) > WITNESS_BODY_MAX) {
            r->too_large = 1;
        }
        /* refuse before reading a body that would be thrown away */
        if (r->limited || r->too_large) {
            r->refused = 1;
            return r->limited
                       ? send_text(c, 429, "too many requests from this address", r->retry_after)
                       : send_text(c, 413, "request is larger than 64 KiB", 0);
        }
        return MHD_YES;
    }
    if (r->refused) {
        *upload_size = 0; /* discard whatever follows */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_large && !r->limited &&
            dft_buf_add(&r->body, upload_data, *upload_size) != DFT_OK) {
            r->too_large = 1;
            dft_buf_release(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    int rt = route(s, url, hex);
    int post = strcmp(method, "POST") == 0;
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (r->limited) {
        return send_text(c, 429, "too many requests from this address", r->retry_after);
    }
    if (rt == 0) {
        return send_text(c, 404, "not found", 0);
    }
    if ((rt == 1 && !post) || (rt == 2 && !get)) {
        return send_text(c, 405, "method not allowed", 0);
    }
    if (r->too_large) {
        return send_text(c, 413, "request is larger than 64 KiB", 0);
    }
    struct witness_answer a;
    dft_buf_init(&a.body, DFT_NOTE_MAX_BYTES + 1024, 0);
    if (rt == 1) {
        witness_store_add(&s->store, s->rl_origin,
                          r->body.data != NULL ? (const char *)r->body.data : "", r->body.len, &a);
    } else {
        witness_store_get(&s->store, hex, &a);
    }
    enum MHD_Result ret = send_answer(c, &a);
    dft_log(DFT_LOG_INFO, "witness %s %s %u", method, rt == 1 ? "add-checkpoint" : "checkpoint",
            a.status);
    dft_buf_release(&a.body);
    return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *r = *req_cls;
    if (r != NULL) {
        dft_buf_release(&r->body);
        free(r);
        *req_cls = NULL;
    }
}

/* ---- lifecycle ---- */

void
dft_witness_opts_default(struct dft_witness_opts *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:0";
    o->prefix = "";
    o->rate_ip = 50;
    o->rate_origin = 10;
    o->conns_max = 1024;
    o->conns_ip = 256;
    o->timeout_sec = 30;
    o->threads = 4;
}

enum dft_err
witness_server_start(struct witness_server **out, const char *dir, const struct dft_witness_opts *o,
                     struct dft_error *err)
{
    struct sockaddr_in sa;
    struct witness_server *s = NULL;
    enum dft_err rc = DFT_OK;
    *out = NULL;
    if ((rc = dft_listen_parse(o->listen, &sa, err)) != DFT_OK) {
        return rc;
    }
    size_t pl = strlen(o->prefix);
    if (pl >= 128 || (pl > 0 && (o->prefix[0] != '/' || o->prefix[pl - 1] == '/'))) {
        return dft_fail(err, DFT_ERR_USAGE, "--prefix must start with '/' and not end with it");
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    s->rl_ip = malloc(sizeof *s->rl_ip);
    s->rl_origin = malloc(sizeof *s->rl_origin);
    if (s->rl_ip == NULL || s->rl_origin == NULL) {
        free(s->rl_ip);
        free(s->rl_origin);
        free(s);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    dft_ratelimit_init(s->rl_ip, o->rate_ip);
    dft_ratelimit_init(s->rl_origin, o->rate_origin);
    memcpy(s->prefix, o->prefix, pl + 1);
    if ((rc = witness_store_open(&s->store, dir, err)) != DFT_OK) {
        witness_server_free(s);
        return rc;
    }
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HEADER_MEMORY, MHD_OPTION_CONNECTION_LIMIT, o->conns_max,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->conns_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        o->timeout_sec, MHD_OPTION_THREAD_POOL_SIZE, o->threads, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
    if (s->daemon == NULL) {
        witness_server_free(s);
        return dft_fail(err, DFT_ERR_IO, "cannot listen on %s", o->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
    snprintf(s->url, sizeof s->url, "http://%s:%u%s", host,
             info != NULL ? (unsigned)info->port : 0u, s->prefix);
    *out = s;
    return DFT_OK;
}

const char *
witness_server_url(const struct witness_server *s)
{
    return s->url;
}

const char *
witness_server_vkey(const struct witness_server *s)
{
    return s->store.vkey;
}

void
witness_server_run(struct witness_server *s)
{
    sigset_t set;
    int sig = 0;
    (void)s;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    (void)sigwait(&set, &sig);
}

void
witness_server_free(struct witness_server *s)
{
    if (s == NULL) {
        return;
    }
    if (s->daemon != NULL) {
        MHD_stop_daemon(s->daemon);
    }
    witness_store_close(&s->store);
    dft_ratelimit_release(s->rl_ip);
    dft_ratelimit_release(s->rl_origin);
    free(s->rl_ip);
    free(s->rl_origin);
    free(s);
}
