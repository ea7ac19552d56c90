/*
 * verify_idle.c - verify_idle.h: the structure check and the stored history's sum on a helper
 * thread over a read-only second connection, the full-text check on verify's thread.
 */
#include <string.h>

#include <sodium.h>

#include "search/search.h"
#include "store/reader.h"
#include "vault/verify_idle.h"

/*
 * SQLite's structure check of the vault's database. quick_check reports damage as result rows,
 * not as an error code: anything but the single row "ok" is damage.
 */
static enum dft_err
structure_check(sqlite3 *db, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA main.quick_check(1)", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return store_error(db, rc, "structure check", err);
    }
    rc = sqlite3_step(st);
    enum dft_err e = DFT_OK;
    if (rc != SQLITE_ROW) {
        e = store_error(db, rc, "structure check", err);
    } else {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        if (res == NULL || strcmp(res, "ok") != 0) {
            e = dft_fail(err, DFT_ERR_INTEGRITY, "the database structure is damaged: %s",
                         res != NULL ? res : "(no detail)");
        }
    }
    sqlite3_finalize(st);
    return e;
}

static void
publish(struct verify_idle *w, int finished, int exited)
{
    pthread_mutex_lock(&w->lock);
    w->finished = finished;
    w->exited = exited;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static void *
idle_thread(void *arg)
{
    struct verify_idle *w = arg;
    w->rc[0] = structure_check(w->rdb, &w->err[0]);
    if (w->rc[0] != DFT_OK || !w->digest) {
        publish(w, 2, 1);
        return NULL;
    }
    publish(w, 1, 0);
    w->rc[1] = verify_digest_stored(w->rdb, w->hkey, &w->stored, &w->err[1]);
    publish(w, 2, 1);
    return NULL;
}

void
verify_idle_start(struct verify_idle *w, sqlite3 *db, int digest, const unsigned char *hkey)
{
    w->digest = digest;
    w->hkey = hkey;
    w->fts_rc = DFT_OK;
    w->rc[0] = w->rc[1] = DFT_OK;
    struct dft_error ignored = {0};
    dft_error_clear(&ignored);
    /* a transaction of the caller's own would hold changes the reader does not see */
    if (!sqlite3_get_autocommit(db) || store_reader_open(db, &w->rdb, &ignored) != DFT_OK) {
        w->rdb = NULL;
        return;
    }
    if (pthread_mutex_init(&w->lock, NULL) == 0) {
        if (pthread_cond_init(&w->cond, NULL) == 0) {
            if (pthread_create(&w->th, NULL, idle_thread, w) == 0) {
                w->threaded = 1;
                return;
            }
            pthread_cond_destroy(&w->cond);
        }
        pthread_mutex_destroy(&w->lock);
    }
    store_reader_close(w->rdb);
    w->rdb = NULL;
}

enum dft_err
verify_idle_step(struct verify_idle *w, sqlite3 *db, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if (w->done == 0) {
        rc = w->threaded ? DFT_OK : structure_check(db, err);
    } else if (w->done == 1) {
        rc =
            w->threaded || !w->digest ? DFT_OK : verify_digest_stored(db, w->hkey, &w->stored, err);
    } else if (w->done == 2) {
        w->fts_rc = search_check(db, &w->fts_err);
    } else {
        return DFT_OK;
    }
    w->done++;
    return rc;
}

/* Wait until the helper has finished its first n steps (or has nothing more to do). */
static void
wait_for(struct verify_idle *w, int n)
{
    pthread_mutex_lock(&w->lock);
    while (w->finished < n && !w->exited) {
        pthread_cond_wait(&w->cond, &w->lock);
    }
    pthread_mutex_unlock(&w->lock);
}

/* The first failure among the helper's first n steps, copied into err. */
static enum dft_err
first_failure(struct verify_idle *w, int n, struct dft_error *err)
{
    for (int s = 0; s < n && s < 2; s++) {
        if (w->rc[s] != DFT_OK) {
            *err = w->err[s];
            return w->rc[s];
        }
    }
    return DFT_OK;
}

enum dft_err
verify_idle_collect(struct verify_idle *w, struct dft_error *err)
{
    if (!w->threaded || w->consumed) {
        return DFT_OK;
    }
    wait_for(w, 2);
    w->consumed = 1;
    return first_failure(w, 2, err);
}

enum dft_err
verify_idle_fail(struct verify_idle *w, enum dft_err rc, struct dft_error *err)
{
    if (rc == DFT_OK || !w->threaded || w->consumed) {
        return rc;
    }
    int due = w->done < 2 ? w->done : 2;
    wait_for(w, due);
    w->consumed = 1;
    enum dft_err first = first_failure(w, due, err);
    return first != DFT_OK ? first : rc;
}

void
verify_idle_stop(struct verify_idle *w)
{
    if (w->threaded) {
        sqlite3_interrupt(w->rdb); /* a result nobody waits for any more */
        pthread_join(w->th, NULL);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        w->threaded = 0;
    }
    store_reader_close(w->rdb);
    w->rdb = NULL;
    sodium_memzero(&w->stored, sizeof w->stored);
    sodium_memzero(w->err, sizeof w->err);
}
