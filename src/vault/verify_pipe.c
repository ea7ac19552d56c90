/*
 * verify_pipe.c - envelopes opened ahead on a second thread during verify (verify_pipe.h).
 *
 * The thread decrypts and parses its own copy of the ciphertext, then hashes operations in
 * ranges taken from a shared counter; the caller, once it has applied the envelope before, takes
 * ranges from the same counter, so neither core waits while the other hashes. Both only read the
 * parsed items. The database stays on the caller's thread. Errors come back in order (the parse
 * first, then the failed operation of the lowest index), so verify reports the same first
 * failure as when it opens each envelope in turn.
 */
#include <stdlib.h>
#include <string.h>

#include "vault/verify_ophash.h"
#include "vault/verify_pipe.h"

#define PIPE_MIN_BYTES (256 * 1024) /* smaller envelopes are opened at once: no thread */
#define HASH_RANGE     256          /* operations taken from the counter at a time */

/* Hash ranges of operations until none is left or one fails. */
static void
hash_share(struct verify_open_job *j, struct verify_hash_share *s)
{
    size_t n = j->info.op_count;
    struct dft_buf scratch;
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    while (!atomic_load(&j->failed)) {
        size_t from = atomic_fetch_add(&j->next, HASH_RANGE);
        if (from >= n) {
            break;
        }
        size_t to = n - from > HASH_RANGE ? from + HASH_RANGE : n;
        /* ranges are taken in order: one taken after a failure lies past it, and is skipped */
        s->rc = verify_open_hash_kept(j->items, &j->info, &j->plain, from, to, j->hashes, &s->err);
        if (s->rc != DFT_OK) {
            s->at = from;
            atomic_store(&j->failed, 1);
            break;
        }
        if (j->hkey != NULL) {
            verify_digest_ops_kept(&s->dig, j->hkey, j->idx, j->items, &j->plain, from, to,
                                   &scratch);
        }
    }
    dft_buf_release(&scratch);
}

/* Decrypt, parse and allocate the hashes: the part that runs before the hashing is shared. */
static enum dft_err
parse(struct verify_open_job *j, const unsigned char *env, size_t n)
{
    crypto_json_arena_enter(j->arena);
    enum dft_err rc =
        envelope_open_parse_kept(j->keys, env, n, &j->info, &j->items, &j->plain, &j->err);
    crypto_json_arena_leave();
    if (rc == DFT_OK && (j->hashes = malloc((size_t)j->info.op_count * DFT_HASH_BYTES)) == NULL) {
        rc = dft_fail(&j->err, DFT_ERR_NOMEM, "out of memory");
    }
    return rc;
}

static void *
open_thread(void *arg)
{
    struct verify_open_job *j = arg;
    enum dft_err rc = parse(j, j->env, j->len);
    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->parsed = 1;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (rc == DFT_OK) {
        hash_share(j, &j->share[0]);
    }
    return NULL;
}

void
verify_open_start(struct verify_open_job *j, const struct dft_keys *k, const unsigned char *env,
                  size_t n, int64_t idx, const unsigned char *hkey, struct verify_digest *total)
{
    memset(j, 0, sizeof *j);
    j->keys = k;
    j->idx = idx;
    j->hkey = hkey;
    j->total = total;
    j->arena = crypto_json_arena_take();
    j->started = 1;
    atomic_init(&j->next, 0);
    atomic_init(&j->failed, 0);
    if (n >= PIPE_MIN_BYTES && pthread_mutex_init(&j->lock, NULL) == 0) {
        if (pthread_cond_init(&j->cond, NULL) == 0) {
            if ((j->env = malloc(n)) != NULL) {
                memcpy(j->env, env, n);
                j->len = n;
                if (pthread_create(&j->th, NULL, open_thread, j) == 0) {
                    j->running = 1;
                    return;
                }
                free(j->env);
                j->env = NULL;
            }
            pthread_cond_destroy(&j->cond);
        }
        pthread_mutex_destroy(&j->lock);
    }
    /* small, or no memory or thread to spare: parse it here (hashed in _finish) */
    j->rc = parse(j, env, n);
    j->parsed = 1;
}

/* Wait for the thread's parse, share the hashing, and join. */
static void
join(struct verify_open_job *j)
{
    if (j->running) {
        pthread_mutex_lock(&j->lock);
        while (!j->parsed) {
            pthread_cond_wait(&j->cond, &j->lock);
        }
        pthread_mutex_unlock(&j->lock);
    }
    if (j->rc == DFT_OK) {
        hash_share(j, &j->share[1]);
    }
    if (j->running) {
        pthread_join(j->th, NULL);
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->lock);
        j->running = 0;
    }
    free(j->env);
    j->env = NULL;
}

void
verify_opened_drop(struct verify_opened *o)
{
    if (o->arena == NULL || crypto_json_arena_spilled(o->arena)) {
        json_decref(o->ops);
        json_decref(o->items);
    }
    crypto_json_arena_release(o->arena);
    memset(o, 0, sizeof *o);
}

static void
drop(struct verify_open_job *j)
{
    struct verify_opened o = {NULL, j->items, j->arena};
    verify_opened_drop(&o);
    j->items = NULL;
    j->arena = NULL;
    free(j->hashes);
    j->hashes = NULL;
    envelope_plain_free(&j->plain);
    j->started = 0;
}

enum dft_err
verify_open_finish(struct verify_open_job *j, struct verify_opened *out, struct dft_error *err)
{
    join(j);
    enum dft_err rc = j->rc;
    const struct dft_error *e = &j->err;
    if (rc == DFT_OK) {
        /* the failure of the lowest operation, as a walk in order would meet it first */
        const struct verify_hash_share *a = &j->share[0], *b = &j->share[1];
        const struct verify_hash_share *first =
            a->rc != DFT_OK && (b->rc == DFT_OK || a->at < b->at) ? a : b;
        rc = first->rc;
        e = &first->err;
    }
    if (rc == DFT_OK) {
        rc = envelope_open_root(&j->info, j->hashes, err);
        e = NULL;
    }
    json_t *ops = NULL;
    if (rc == DFT_OK) {
        size_t i;
        json_t *item;
        crypto_json_arena_enter(j->arena);
        ops = json_array();
        json_array_foreach(j->items, i, item)
        {
            if (ops == NULL || json_array_append(ops, json_object_get(item, "op")) != 0) {
                rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                e = NULL;
                break;
            }
        }
        crypto_json_arena_leave();
    }
    if (rc != DFT_OK) {
        struct verify_opened o = {ops, j->items, j->arena};
        j->items = NULL;
        j->arena = NULL;
        drop(j);
        verify_opened_drop(&o);
        return e == NULL ? rc : dft_fail(err, rc, "%s", e->msg[0] != '\0' ? e->msg : "cannot open");
    }
    if (j->hkey != NULL) {
        verify_digest_merge(j->total, &j->share[0].dig);
        verify_digest_merge(j->total, &j->share[1].dig);
    }
    *out = (struct verify_opened){ops, j->items, j->arena};
    j->items = NULL;
    j->arena = NULL;
    drop(j);
    return DFT_OK;
}

void
verify_open_cancel(struct verify_open_job *j)
{
    if (!j->started) {
        return;
    }
    atomic_store(&j->failed, 1); /* nothing more to hash */
    join(j);
    drop(j);
}
