/*
 * verify_idle.h - the checks of verify that read only the stored vault: SQLite's structure
 * check of the database, the keyed sum of the stored history (verify_history.h) and the
 * full-text index's own consistency check. Internal to src/vault (verify.c).
 *
 * The first two run on a helper thread, over a second read-only connection of the same database
 * (store/reader.h), from the start of verify; their failures are reported where verify ran them
 * before, on its own thread: a failure of a later check yields to one of these that was due
 * earlier (verify_idle_fail), so the first failure reported is the same. When the helper cannot
 * start (or the caller holds a transaction the reader would not see), they run on verify's
 * thread, as steps between envelopes. The full-text check always runs on verify's thread.
 */
#ifndef DEFTER_VAULT_VERIFY_IDLE_H
#define DEFTER_VAULT_VERIFY_IDLE_H

#include <pthread.h>
#include <sqlite3.h>

#include "defter/core.h"
#include "vault/verify_history.h"

#define VERIFY_IDLE_STEPS 3

struct verify_idle {
    int done;                  /* steps due so far (on this thread: run) */
    int digest;                /* the history is compared as a digest: its stored sum is a step */
    const unsigned char *hkey; /* the digest's key, read-only, wiped by the caller after stop */
    struct verify_digest stored;
    enum dft_err fts_rc; /* search_check's result, and its message */
    struct dft_error fts_err;
    /* the helper thread (threaded set) and what it has finished */
    int threaded;
    sqlite3 *rdb;
    pthread_t th;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;       /* steps the helper has finished (0..2), under lock */
    int exited;         /* the helper has nothing more to do, under lock */
    int consumed;       /* its results were reported (collect) */
    enum dft_err rc[2]; /* its steps' results */
    struct dft_error err[2];
};

/* Set up w (zeroed by the caller) and start the helper when it can run. */
void verify_idle_start(struct verify_idle *w, sqlite3 *db, int digest, const unsigned char *hkey);

/* The next step: run here when not threaded; else only counted. */
enum dft_err verify_idle_step(struct verify_idle *w, sqlite3 *db, struct dft_error *err);

/*
 * After the steps (all VERIFY_IDLE_STEPS due): wait for the helper and report its first failure.
 */
enum dft_err verify_idle_collect(struct verify_idle *w, struct dft_error *err);

/*
 * verify failed with rc (err set) while w->done steps were due: a failure of one of those steps
 * comes first (it replaces err). rc when none, or rc DFT_OK.
 */
enum dft_err verify_idle_fail(struct verify_idle *w, enum dft_err rc, struct dft_error *err);

/* Stop the helper (interrupted if still running), close the reader; w->stored wiped. */
void verify_idle_stop(struct verify_idle *w);

#endif
