/*
 * verify_pipe.c - envelopes opened ahead on a second thread during verify (verify_pipe.h).
 *
 * The thread only reads its own copy of the ciphertext and the keys; the database stays on the
 * caller's thread. Results and errors come back in order, so verify reports the same first
 * failure as when it opens each envelope in turn.
 */
#include <stdlib.h>
#include <string.h>

#include "vault/envelope.h"
#include "vault/verify_pipe.h"

#define PIPE_MIN_BYTES (256 * 1024) /* smaller envelopes are opened at once: no thread */

static void *
open_thread(void *arg)
{
    struct verify_open_job *j = arg;
    j->rc = envelope_open(j->keys, j->env, j->len, &j->ops, &j->err);
    return NULL;
}

void
verify_open_start(struct verify_open_job *j, const struct dft_keys *k, const unsigned char *env,
                  size_t n)
{
    memset(j, 0, sizeof *j);
    j->keys = k;
    j->started = 1;
    if (n >= PIPE_MIN_BYTES && (j->env = malloc(n)) != NULL) {
        memcpy(j->env, env, n);
        j->len = n;
        if (pthread_create(&j->th, NULL, open_thread, j) == 0) {
            j->running = 1;
            return;
        }
        free(j->env);
        j->env = NULL;
    }
    /* small, or no memory or thread to spare: open it here */
    j->rc = envelope_open(k, env, n, &j->ops, &j->err);
}

static void
join(struct verify_open_job *j)
{
    if (j->running) {
        pthread_join(j->th, NULL);
        j->running = 0;
    }
    free(j->env);
    j->env = NULL;
}

enum dft_err
verify_open_finish(struct verify_open_job *j, json_t **ops_out, struct dft_error *err)
{
    join(j);
    j->started = 0;
    if (j->rc != DFT_OK) {
        json_decref(j->ops);
        j->ops = NULL;
        return dft_fail(err, j->rc, "%s", j->err.msg[0] != '\0' ? j->err.msg : "cannot open");
    }
    *ops_out = j->ops;
    j->ops = NULL;
    return DFT_OK;
}

void
verify_open_cancel(struct verify_open_job *j)
{
    if (!j->started) {
        return;
    }
    join(j);
    json_decref(j->ops);
    j->ops = NULL;
    j->started = 0;
}
