/*
 * client.h - the client side of team sync: signed HTTP requests (client_http.c) and the sync
 * engine behind `defter share`, `member`, `sync`, `init --join` (client.c). Internal to
 * libdefter; the CLI (src/cli/cmd_sync.c) and, later, the agent call these functions.
 */
#ifndef DEFTER_SYNC_CLIENT_H
#    define DEFTER_SYNC_CLIENT_H

#    include <stddef.h>
#    include <stdint.h>

#    include <jansson.h>

#    include "defter/core.h"
#    include "sync/httpsig.h"

#    define SYNC_URL_MAX        256
#    define SYNC_RESP_MAX       (SYNC_PULL_BYTES_MAX + 1024 * 1024)
#    define SYNC_PULL_BYTES_MAX (72u * 1024u * 1024u)

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

#endif

/* ---- the engine (client.c): each call opens its own connection from the vault's state ---- */

struct dft_vault;

#define SYNC_INVITE_PREFIX "defter-invite:"
#define SYNC_INVITE_TTL    (7 * 24 * 3600) /* seconds an invite stays usable */

/*
 * Make the open vault a collection on the server at url (its verifier key is learned here,
 * trust on first use) and push its history. *out: {"collection","server","vkey","pushed",...}.
 */
enum dft_err dft_sync_share(struct dft_vault *v, const char *url, json_t **out,
                            struct dft_error *err) DFT_MUST_CHECK;
/* An owner's one-use invite for role: *out {"invite":STRING,"role","expires"}. */
enum dft_err dft_sync_invite(struct dft_vault *v, const char *role, json_t **out,
                             struct dft_error *err) DFT_MUST_CHECK;
/* Before making a vault for it: the invite decodes and the server still honours it. */
enum dft_err dft_sync_invite_check(const char *invite, struct dft_error *err) DFT_MUST_CHECK;
/* Join the collection of invite with this (new) vault, then pull. *out as dft_sync_run. */
enum dft_err dft_sync_join(struct dft_vault *v, const char *invite, json_t **out,
                           struct dft_error *err) DFT_MUST_CHECK;
/* {"collection","members":[{"key","role","joined","revoked",...,"you"}]} */
enum dft_err dft_sync_members(struct dft_vault *v, json_t **out,
                              struct dft_error *err) DFT_MUST_CHECK;
/*
 * Revoke key (base64 Ed25519) and start a new epoch sealed to the remaining readers. since:
 * POSIX seconds (-1: none): entries logged after the last checkpoint this device verified
 * before since are held for review.
 */
enum dft_err dft_sync_revoke(struct dft_vault *v, const char *key, int64_t since, json_t **out,
                             struct dft_error *err) DFT_MUST_CHECK;
/*
 * Push, then pull and verify: {"pushed","pulled","size","root"}. DFT_ERR_INTEGRITY on a fork,
 * rollback or bad proof: nothing is merged and both signed checkpoints are kept in the state's
 * "evidence". to_url (may be NULL): re-seed that server from this vault instead.
 */
enum dft_err dft_sync_run(struct dft_vault *v, const char *to_url, json_t **out,
                          struct dft_error *err) DFT_MUST_CHECK;
