/*
 * batch.c - many records into the index at once: a worker thread folds each record (the costly
 * part of a put that needs no database) into a ring of prepared slots while the calling thread
 * writes the records already folded, in their given order: row numbers are then the same as
 * with one put per record (a query's candidate limit takes the first rows, so the order shows
 * in results), and of two records with one id the later wins.
 * Nothing here logs or keeps any text it indexes; the slots are released before returning.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "search/internal.h"

#define RING          64  /* records folded ahead of the writer */
#define BATCH_THREADS 128 /* fewer records than this are put one by one, without a thread */

struct slot {
    struct search_prepared prep;
    enum dft_err e;
    struct dft_error err;
};

struct batch {
    const struct dft_search_record *recs;
    const size_t *order;
    size_t n;
    struct slot *ring;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /*
     * Each side publishes its count without the lock and takes it only to sleep or to wake a
     * sleeper: a lock and a wake-up per record cost the folder a third of its time. A side sets
     * its flag under the lock and checks the other's count again before sleeping; the other
     * stores its count, then reads the flag (both sequentially consistent), so one of them
     * always sees the other.
     */
    _Atomic size_t made;      /* records folded (in order) */
    _Atomic size_t used;      /* records written: their slots may be reused */
    _Atomic int stop;         /* the writer gave up */
    _Atomic int folder_waits; /* the folder sleeps on a full ring */
    _Atomic int writer_waits; /* the writer sleeps for a record */
};

/* Wake the other side if it sleeps (after this side stored its count). */
static void
wake(struct batch *b, _Atomic int *waits)
{
    if (atomic_load(waits)) {
        pthread_mutex_lock(&b->lock);
        pthread_cond_broadcast(&b->cond);
        pthread_mutex_unlock(&b->lock);
    }
}

static void *
folder(void *arg)
{
    struct batch *b = arg;
    for (size_t k = 0; k < b->n; k++) {
        if (!atomic_load(&b->stop) && k - atomic_load(&b->used) >= RING) {
            pthread_mutex_lock(&b->lock);
            atomic_store(&b->folder_waits, 1);
            while (!atomic_load(&b->stop) && k - atomic_load(&b->used) >= RING) {
                pthread_cond_wait(&b->cond, &b->lock);
            }
            atomic_store(&b->folder_waits, 0);
            pthread_mutex_unlock(&b->lock);
        }
        if (atomic_load(&b->stop)) {
            break;
        }
        struct slot *s = &b->ring[k % RING];
        const struct dft_search_record *r = &b->recs[b->order[k]];
        dft_error_clear(&s->err);
        s->e = search_prepare(&s->prep, r->title, r->fields, &s->err);
        atomic_store(&b->made, k + 1);
        wake(b, &b->writer_waits);
    }
    return NULL;
}

static enum dft_err
put_each(struct dft_search_writer *w, const struct dft_search_record *recs, size_t n,
         struct dft_error *err)
{
    for (size_t i = 0; i < n; i++) {
        enum dft_err e =
            search_writer_put(w, recs[i].id, recs[i].type, recs[i].title, recs[i].fields, err);
        if (e != DFT_OK) {
            return e;
        }
    }
    return DFT_OK;
}

enum dft_err
dft_search_writer_put_many(struct dft_search_writer *w, const struct dft_search_record *recs,
                           size_t n, struct dft_error *err)
{
    if (w == NULL || (recs == NULL && n > 0)) {
        return dft_fail(err, DFT_ERR_USAGE, "search put needs a writer and records");
    }
    for (size_t i = 0; i < n; i++) {
        if (recs[i].id == NULL || recs[i].type == NULL) {
            return dft_fail(err, DFT_ERR_USAGE, "search put needs a database, an id and a type");
        }
    }
    if (n < BATCH_THREADS) {
        return put_each(w, recs, n, err);
    }
    enum dft_err e = DFT_OK;
    struct batch b = {
        .recs = recs, .n = n, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    atomic_init(&b.made, 0);
    atomic_init(&b.used, 0);
    atomic_init(&b.stop, 0);
    atomic_init(&b.folder_waits, 0);
    atomic_init(&b.writer_waits, 0);
    size_t *order = malloc(n * sizeof *order);
    b.ring = calloc(RING, sizeof *b.ring);
    if (order == NULL || b.ring == NULL) {
        free(order);
        free(b.ring);
        return put_each(w, recs, n, err); /* no memory to spare: the slow way */
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    b.order = order;
    for (size_t i = 0; i < RING; i++) {
        search_prepared_init(&b.ring[i].prep);
        b.ring[i].prep.make_keys = 1; /* the writer only hands the names' keys to FTS5 */
    }
    pthread_t th;
    if (pthread_create(&th, NULL, folder, &b) != 0) {
        e = DFT_ERR_INTERNAL;
    }
    if (e != DFT_OK) {
        /* no thread: fold and write in turn, in the same order */
        e = DFT_OK;
        for (size_t k = 0; k < n && e == DFT_OK; k++) {
            const struct dft_search_record *r = &recs[order[k]];
            e = search_writer_put(w, r->id, r->type, r->title, r->fields, err);
        }
        goto out;
    }
    for (size_t k = 0; k < n && e == DFT_OK; k++) {
        if (atomic_load(&b.made) <= k) {
            pthread_mutex_lock(&b.lock);
            atomic_store(&b.writer_waits, 1);
            while (atomic_load(&b.made) <= k) {
                pthread_cond_wait(&b.cond, &b.lock);
            }
            atomic_store(&b.writer_waits, 0);
            pthread_mutex_unlock(&b.lock);
        }
        struct slot *s = &b.ring[k % RING];
        const struct dft_search_record *r = &recs[order[k]];
        if (s->e != DFT_OK) {
            e = dft_fail(err, s->e, "%s", s->err.msg);
        } else {
            e = search_insert(w, r->id, r->type, r->title, &s->prep, err);
        }
        if (e != DFT_OK) {
            atomic_store(&b.stop, 1);
        }
        atomic_store(&b.used, k + 1);
        /* the folder waits on a full ring: wake it when half of it is free */
        if (e != DFT_OK || atomic_load(&b.made) - (k + 1) <= RING / 2) {
            wake(&b, &b.folder_waits);
        }
    }
    pthread_join(th, NULL);
out:
    for (size_t i = 0; i < RING; i++) {
        search_prepared_release(&b.ring[i].prep);
    }
    free(b.ring);
    free(order);
    pthread_mutex_destroy(&b.lock);
    pthread_cond_destroy(&b.cond);
    return e;
}
