/*
 * client.h - the client side of team sync: signed HTTP requests (client_http.c) and the sync
 * engine behind `defter share`, `member`, `sync`, `init --join` (client.c). Internal to
 * libdefter; the CLI (src/cli/cmd_sync.c) and, later, the agent call these functions.
 */
#ifndef DEFTER_SYNC_CLIENT_H
#define DEFTER_SYNC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"
#include "defter/team.h"
#include "sync/httpsig.h"

#define SYNC_URL_MAX        256
#define SYNC_RESP_MAX       (SYNC_PULL_BYTES_MAX + 1024 * 1024)
#define SYNC_PULL_BYTES_MAX (72u * 1024u * 1024u)

/* A connection to one server, signing every request with one device key. */
struct sync_http {
    void *curl;              /* CURL easy handle, kept for connection reuse */
    char base[SYNC_URL_MAX]; /* http://HOST:PORT, no trailing '/' */
    unsigned char pub[32];   /* the device's Ed25519 public key */
    httpsig_sign_fn sign;
    void *sign_ctx;
    int retries;            /* times a 429 is retried after Retry-After (0: none) */
    int64_t (*clock)(void); /* POSIX seconds for created (tests); NULL: time() */
};

/* What an answer carried besides its body. */
struct sync_http_meta {
    long status;
    uint64_t first, size; /* X-Defter-First, X-Defter-Size (0 when absent) */
    unsigned retry_after;
};

enum dft_err sync_http_init(struct sync_http *h, const char *base_url, const unsigned char pub[32],
                            httpsig_sign_fn sign, void *ctx, struct dft_error *err) DFT_MUST_CHECK;
void sync_http_release(struct sync_http *h);

/*
 * One request: sign (unless hdrs is given: then those headers are sent as they are, for tests
 * of refusals), send body, fill meta and resp (dft_buf_init'd by the caller). DFT_ERR_IO when
 * the server cannot be reached; any HTTP status is DFT_OK with meta->status set.
 */
enum dft_err sync_http_raw(struct sync_http *h, const char *method, const char *path,
                           const unsigned char *body, size_t n, const struct httpsig_headers *hdrs,
                           struct sync_http_meta *meta, struct dft_buf *resp,
                           struct dft_error *err) DFT_MUST_CHECK;

/*
 * sync_http_raw, then map a status other than 2xx to an error naming the server's message:
 * 401 and 403 DFT_ERR_INPUT, 404 DFT_ERR_NOT_FOUND, 413 DFT_ERR_TOO_LARGE, others DFT_ERR_IO.
 * A 429 is retried h->retries times after its Retry-After.
 */
enum dft_err sync_http_call(struct sync_http *h, const char *method, const char *path,
                            const unsigned char *body, size_t n, struct sync_http_meta *meta,
                            struct dft_buf *resp, struct dft_error *err) DFT_MUST_CHECK;

/* The full URL of path into out (SYNC_URL_MAX + path). */
void sync_http_url(const struct sync_http *h, const char *path, char *out, size_t max);

#define SYNC_INVITE_PREFIX DFT_SYNC_INVITE_PREFIX
#define SYNC_INVITE_TTL    (7 * 24 * 3600) /* seconds an invite stays usable */

#endif
