/*
 * io.c - the ring of chunk buffers between the evidence layer's two threads, the sweep of
 * temporary objects, and the fault hook's entry point (the file helpers are core/file.c).
 *
 * Never follows a symlink when creating a file, never creates anything but 0600 files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/internal.h"

void
evidence_fault_set(unsigned nth, int errnum)
{
    file_fault_set(nth, errnum);
}

/* ---- the ring ---- */

int
evd_pipe_init(struct evd_pipe *p, size_t slot_bytes)
{
    memset(p, 0, sizeof *p);
    /* aligned (and a whole number of EVD_IO_ALIGN blocks) for extract's direct writes */
    p->slot_bytes = (slot_bytes + EVD_IO_ALIGN - 1) / EVD_IO_ALIGN * EVD_IO_ALIGN;
    for (size_t i = 0; i < EVD_SLOTS; i++) {
        p->slots[i].buf = aligned_alloc(EVD_IO_ALIGN, p->slot_bytes);
        if (p->slots[i].buf == NULL) {
            for (size_t j = 0; j < i; j++) {
                free(p->slots[j].buf);
                p->slots[j].buf = NULL;
            }
            return -1;
        }
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_full, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    return 0;
}

void
evd_pipe_release(struct evd_pipe *p)
{
    for (size_t i = 0; i < EVD_SLOTS; i++) {
        if (p->slots[i].buf != NULL) {
            /* slots held plaintext: wipe each whole, as allocated */
            sodium_memzero(p->slots[i].buf, p->slot_bytes);
            free(p->slots[i].buf);
            p->slots[i].buf = NULL;
        }
    }
    pthread_cond_destroy(&p->cv_full);
    pthread_cond_destroy(&p->cv_free);
    pthread_mutex_destroy(&p->mu);
}

void
evd_pipe_second(struct evd_pipe *p)
{
    p->second = 1;
}

/* Slots every consumer is done with (called with mu held). */
static uint64_t
pipe_freed(const struct evd_pipe *p)
{
    return p->second && p->tail2 < p->tail ? p->tail2 : p->tail;
}

struct evd_slot *
evd_pipe_acquire(struct evd_pipe *p)
{
    struct evd_slot *s = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->head - pipe_freed(p) == EVD_SLOTS && !p->abort) {
        pthread_cond_wait(&p->cv_free, &p->mu);
    }
    if (!p->abort) {
        s = &p->slots[p->head % EVD_SLOTS];
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

void
evd_pipe_submit(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->head++;
    pthread_cond_broadcast(&p->cv_full); /* one or two consumers wait */
    pthread_mutex_unlock(&p->mu);
}

void
evd_pipe_finish(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_broadcast(&p->cv_full);
    pthread_mutex_unlock(&p->mu);
}

struct evd_slot *
evd_pipe_take(struct evd_pipe *p)
{
    struct evd_slot *s = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->head == p->tail && !p->done && !p->abort) {
        pthread_cond_wait(&p->cv_full, &p->mu);
    }
    if (!p->abort && p->head != p->tail) {
        s = &p->slots[p->tail % EVD_SLOTS];
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

void
evd_pipe_consumed(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->tail++;
    pthread_cond_signal(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

struct evd_slot *
evd_pipe_take2(struct evd_pipe *p)
{
    struct evd_slot *s = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->head == p->tail2 && !p->done && !p->abort) {
        pthread_cond_wait(&p->cv_full, &p->mu);
    }
    if (!p->abort && p->head != p->tail2) {
        s = &p->slots[p->tail2 % EVD_SLOTS];
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

void
evd_pipe_consumed2(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->tail2++;
    pthread_cond_signal(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

void
evd_pipe_abort(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->abort = 1;
    pthread_cond_broadcast(&p->cv_full);
    pthread_cond_broadcast(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

enum dft_err
evidence_sweep(const char *objects_dir, size_t *removed, struct dft_error *err)
{
    size_t n = 0;
    DIR *d = opendir(objects_dir);
    if (d == NULL) {
        if (errno == ENOENT) {
            *removed = 0;
            return DFT_OK;
        }
        return dft_fail(err, DFT_ERR_IO, "cannot read '%s': %s", objects_dir, strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0) {
            continue;
        }
        /* unlinkat relative to the directory: a name cannot lead anywhere else */
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
            n++;
        }
    }
    closedir(d);
    *removed = n;
    return DFT_OK;
}
