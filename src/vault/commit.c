/*
 * commit.c - the commit pipeline: operations become one signed, sealed envelope, its log leaf
 * and the view updates, in one SQLite transaction.
 *
 * Every change is one envelope in one SQLite transaction: the envelope row, its transparency
 * log leaf and the view updates commit together or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "evidence/evidence.h"
#include "search/search.h"
#include "store/store.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/privileged.h"
#include "vault/schema.h"
#include "vault/fsutil.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

static enum dft_err
next_index(sqlite3 *db, int64_t *idx, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(idx)+1, 0) FROM envelopes", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_error(db, rc, "cannot read the log", err);
    }
    *idx = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return DFT_OK;
}

/* leaf: the envelope's log leaf hash, computed by the caller (the sealer, off the writer) */
static enum dft_err
store_envelope(sqlite3 *db, int64_t idx, const struct dft_buf *env,
               const unsigned char leaf[DFT_HASH_BYTES], struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO envelopes(idx, leaf_hash, envelope) VALUES(?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, idx);
        sqlite3_bind_blob(st, 2, leaf, DFT_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 3, env->data, env->len, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return store_error(db, rc, "cannot store the operation", err);
    }
    return DFT_OK;
}

/*
 * Sealing (hashing, signing, encrypting) runs on a second thread while the view is applied. It
 * hands each operation's canonical JSON, as it writes it into the envelope, to the view's window
 * (view_ahead_put), so the view's history rows need no second encoding of the operations.
 */
struct seal_job {
    const struct dft_keys *keys;
    const json_t *ops;                  /* read only on both threads */
    struct dft_buf *env;                /* output */
    unsigned char leaf[DFT_HASH_BYTES]; /* output: env's log leaf hash */
    struct dft_view_ahead *ahead;       /* NULL: the view makes its JSON itself */
    struct dft_error err;               /* the thread's own error record */
    enum dft_err rc;
};

static void
seal_each(void *ctx, size_t i, const unsigned char *op, size_t len)
{
    view_ahead_put(ctx, i, op, len);
}

static void *
seal_thread(void *arg)
{
    struct seal_job *job = arg;
    job->rc = envelope_seal_each(job->keys, job->ops, job->env,
                                 job->ahead != NULL ? seal_each : NULL, job->ahead, &job->err);
    if (job->rc == DFT_OK) {
        crypto_leaf_hash(job->leaf, job->env->data,
                         job->env->len); /* off the writer: a large envelope takes a while */
    }
    view_ahead_cancel(job->ahead); /* nothing more comes: the view makes the rest itself */
    return NULL;
}

/*
 * The caller's operations and the view's window of canonical JSON, released on their own
 * thread while the commit writes (the window's 8192 buffers took about 2 % of the writer).
 */
struct free_job {
    json_t *ops;
    struct dft_view_ahead *ahead;
};

static void *
free_thread(void *arg)
{
    struct free_job *job = arg;
    view_ahead_free(job->ahead);
    json_decref(job->ops);
    return NULL;
}

/*
 * give: NULL, or the caller's reference to ops, which the commit may take (setting *give to
 * NULL) once nothing reads the operations any more, to release them on another thread while
 * the envelope, the log and COMMIT are written: releasing 100k operations took about a tenth of
 * the writer's time in a batch.
 */
static enum dft_err
commit_ops(struct dft_vault *v, json_t *ops, json_t **give, struct dft_error *err)
{
    int noop = 0;
    enum dft_err checked = schema_check_ops(v, ops, &noop, err); /* schema.c */
    if (checked != DFT_OK || noop) {
        return checked;
    }
    if ((checked = privileged_seal_ops(v, ops, err)) != DFT_OK) { /* privileged.c */
        return checked;
    }
    char ts[DFT_TS_BYTES];
    dft_time_now(ts);
    size_t n = json_array_size(ops);
    if (n == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "nothing to add");
    }
    if (n > DFT_BATCH_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many operations in one batch (max %d)",
                        DFT_BATCH_MAX);
    }
    /* the operation ids from one draw, not one getrandom call per id */
    unsigned char *rnd = malloc(n * VAULT_ID_RANDOM_BYTES);
    if (rnd != NULL) {
        randombytes_buf(rnd, n * VAULT_ID_RANDOM_BYTES);
    }
    /*
     * The values every operation of the batch shares (version, time, author) are one jansson
     * value each, referenced by every operation (jansson counts references atomically, so the
     * threads below may read them together): three allocations and frees less per operation.
     */
    json_t *one = json_integer(1);
    json_t *when = json_string(ts);
    json_t *who = json_string(v->author);
    int stamped = one != NULL && when != NULL && who != NULL;
    for (size_t i = 0; i < n && stamped; i++) {
        json_t *op = json_array_get(ops, i);
        char id[DFT_ID_MAX];
        if (rnd != NULL) {
            vault_id_from_random(id, "op", rnd + i * VAULT_ID_RANDOM_BYTES);
        } else {
            dft_vault_new_id(id, "op");
        }
        /* every setter checked: a half-built operation is never signed */
        if (!json_is_object(op) || json_object_set(op, "v", one) != 0 ||
            json_object_set_new(op, "id", json_string(id)) != 0 ||
            json_object_set(op, "ts", when) != 0 || json_object_set(op, "author", who) != 0 ||
            (json_object_get(op, "fields") == NULL &&
             json_object_set_new(op, "fields", json_object()) != 0)) {
            stamped = 0;
        }
    }
    free(rnd);
    json_decref(one);
    json_decref(when);
    json_decref(who);
    if (!stamped) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err merged = sync_op_parents(v, ops, err); /* parents, seen (conflict.c) */
    if (merged != DFT_OK) {
        return merged;
    }
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    struct dft_view vw;
    int view_ready = 0;
    int in_tx = 0;
    int64_t idx = 0;
    unsigned char leaf[DFT_HASH_BYTES];
    struct dft_tlog_state state;
    enum dft_err rc = DFT_OK;
    struct seal_job job = {v->keys, ops, &env, {0}, NULL, {DFT_OK, ""}, DFT_OK};
    pthread_t freer;
    int freeing = 0;
    struct free_job freed = {NULL, NULL};
    pthread_t sealer;
    int threaded = 0;
    struct dft_view_ahead *ahead = NULL;
    struct dft_error ahead_err; /* without a window the view makes its JSON itself */
    if (n >= 64) {
        if (view_ahead_new(&ahead, ops, &ahead_err) != DFT_OK) {
            ahead = NULL;
        }
        job.ahead = ahead;
        threaded = pthread_create(&sealer, NULL, seal_thread, &job) == 0;
    }
    if (!threaded) {
        /* sealed here before the view runs: nobody would take a full window's entries */
        view_ahead_free(ahead);
        ahead = NULL;
        job.ahead = NULL;
        seal_thread(&job);
    }
    if ((rc = store_exec(v->db, "BEGIN IMMEDIATE", err)) != DFT_OK) {
        goto out;
    }
    in_tx = 1;
    if ((rc = view_init(&vw, v->db, "main", 1, err)) != DFT_OK) {
        goto out;
    }
    view_ready = 1;
    vw.ahead = ahead;
    if ((rc = next_index(v->db, &idx, err)) != DFT_OK ||
        (rc = view_apply(&vw, idx, ops, err)) != DFT_OK) {
        goto out;
    }
    if (threaded) {
        pthread_join(sealer, NULL);
        threaded = 0;
    }
    if (job.rc != DFT_OK) {
        rc = dft_fail(err, job.rc, "%s", job.err.msg);
        goto out;
    }
    /* nothing reads the operations from here: the caller's may go on their own thread */
    if (give != NULL && *give == ops && n >= 64) {
        freed.ops = ops;
        freed.ahead = ahead; /* the sealer and the view are done with it */
        if (pthread_create(&freer, NULL, free_thread, &freed) == 0) {
            freeing = 1;
            *give = NULL;
            ahead = NULL;
            vw.ahead = NULL;
        }
    }
    state.size = (uint64_t)idx + 1;
    memcpy(leaf, job.leaf, sizeof leaf);
    if ((rc = store_envelope(v->db, idx, &env, leaf, err)) != DFT_OK ||
        (rc = tlog_append(v->db, (uint64_t)idx, leaf, err)) != DFT_OK ||
        (rc = tlog_root(v->db, state.size, state.root, err)) != DFT_OK) {
        goto out;
    }
    view_release(&vw);
    view_ready = 0;
    rc = store_exec(v->db, "COMMIT", err);
    if (rc == DFT_OK) {
        in_tx = 0;
        dft_log(DFT_LOG_INFO, "appended envelope %lld with %zu operations", (long long)idx, n);
        /* After the commit: a crash before this leaves the header behind, which is safe. */
        vault_state_catch_up(v, &state);
    }
out:
    if (freeing) {
        pthread_join(freer, NULL);
    }
    if (threaded) {
        view_ahead_cancel(ahead); /* a sealer waiting for the window returns */
        pthread_join(sealer, NULL);
    }
    view_ahead_free(ahead);
    if (view_ready) {
        view_release(&vw);
    }
    if (in_tx) {
        store_rollback(v->db);
    }
    dft_buf_release(&env);
    return rc;
}

enum dft_err
vault_commit_ops(struct dft_vault *v, json_t *ops, struct dft_error *err)
{
    return commit_ops(v, ops, NULL, err);
}

enum dft_err
vault_commit_ops_owned(struct dft_vault *v, json_t *ops, struct dft_error *err)
{
    json_t *mine = ops;
    enum dft_err rc = commit_ops(v, ops, &mine, err);
    json_decref(mine); /* NULL if the commit released them */
    return rc;
}

enum dft_err
dft_vault_append_ops(struct dft_vault *v, const json_t *ops, json_t **ids_out,
                     struct dft_error *err)
{
    if (!json_is_array(ops)) {
        return dft_fail(err, DFT_ERR_INTERNAL, "operations must be an array");
    }
    json_t *copy = json_deep_copy(ops);
    if (copy == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = vault_commit_ops(v, copy, err);
    if (rc == DFT_OK && ids_out != NULL) {
        json_t *ids = json_array();
        size_t i;
        json_t *op;
        json_array_foreach(copy, i, op)
        {
            json_array_append(ids, json_object_get(op, "id"));
        }
        *ids_out = ids;
    }
    json_decref(copy);
    return rc;
}

/* ---- validation of user input ---- */
