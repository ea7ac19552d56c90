/*
 * witness_internal.h - the witness's state (witness_store.c) and rate limits, shared with its
 * HTTP front (witness_http.c). Not for other files.
 */
#ifndef DEFTER_SERVER_WITNESS_INTERNAL_H
#define DEFTER_SERVER_WITNESS_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "defter/ratelimit.h"
#include "defter/core.h"
#include "log/tlog.h"

struct witness_store {
    sqlite3 *db;
    pthread_mutex_t mu;            /* every use of db */
    unsigned char *sk;             /* sodium_malloc'd Ed25519 secret key (64), read-only */
    struct dft_note_verifier self; /* the witness's cosignature/v1 key */
    char vkey[DFT_NOTE_VKEY_MAX];
};

enum dft_err witness_store_open(struct witness_store *ws, const char *dir,
                                struct dft_error *err) DFT_MUST_CHECK;
void witness_store_close(struct witness_store *ws);

/* The answer to one request. */
struct witness_answer {
    unsigned status;     /* HTTP status */
    const char *ctype;   /* Content-Type */
    struct dft_buf body; /* caller releases */
    unsigned retry_after;
};

/*
 * Handle an add-checkpoint body: fills a (status 200, 400, 403, 404, 409, 422, 429, 500). rl
 * limits requests per origin (may be NULL).
 */
void witness_store_add(struct witness_store *ws, struct dft_ratelimit *rl, const char *body,
                       size_t len, struct witness_answer *a);
/* The latest cosigned checkpoint of the log whose hex SHA-256(origin) is hex (200 or 404). */
void witness_store_get(struct witness_store *ws, const char *hex, struct witness_answer *a);

#endif
