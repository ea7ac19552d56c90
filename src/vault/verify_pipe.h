/*
 * verify_pipe.h - verify opens envelope k+1 (signature, decryption, disclosure root) on a second
 * thread while it applies envelope k to the rebuilt view. Internal to src/vault.
 */
#ifndef DEFTER_VAULT_VERIFY_PIPE_H
#define DEFTER_VAULT_VERIFY_PIPE_H

#include <pthread.h>
#include <stdatomic.h>
#include <jansson.h>

#include "crypto/keys.h"
#include "defter/core.h"
#include "vault/envelope.h"
#include "crypto/json_arena.h"
#include "vault/verify_history.h"

/* One thread's share of the operation hashes: its first failure, if any. */
struct verify_hash_share {
    enum dft_err rc;
    size_t at; /* the first operation of the range that failed */
    struct dft_error err;
    struct verify_digest dig; /* history rows of the ranges it took (when hkey is set) */
};

/* An opened envelope: its operations (borrowed from items), in arena when not NULL. */
struct verify_opened {
    json_t *ops;
    json_t *items;
    struct crypto_json_arena *arena;
};

/* Drop an opened envelope (safe on a zeroed one): with its arena, without a walk. */
void verify_opened_drop(struct verify_opened *o);

struct verify_open_job {
    const struct dft_keys *keys;
    struct crypto_json_arena *arena; /* the parsed items live there (NULL: plain jansson memory) */
    int64_t idx;                     /* the envelope's log index */
    const unsigned char *hkey;       /* when set: sum the history rows (verify_history.h) */
    struct verify_digest *total;     /* ... into this, once the envelope is opened */
    unsigned char *env;              /* a copy of the envelope (ciphertext) */
    size_t len;
    struct dft_envelope_info info;
    json_t *items;                     /* the decrypted {"op", "salt_key"} items */
    struct envelope_plain plain;       /* their plaintext, kept while the ops are hashed */
    unsigned char *hashes;             /* info.op_count operation hashes */
    enum dft_err rc;                   /* the parse's result (the thread's) */
    struct dft_error err;              /* the parse's error record */
    atomic_size_t next;                /* the next operation to hash (both threads take ranges) */
    atomic_int failed;                 /* a range failed: take no more */
    struct verify_hash_share share[2]; /* [0] the thread's, [1] the caller's */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int parsed; /* under lock: the thread is past the parse (rc is set) */
    pthread_t th;
    int running; /* a thread works on it: join before reading */
    int started; /* _start succeeded: _finish or _cancel must follow */
};

/*
 * Open env (n bytes, borrowed only for the call: large envelopes are copied and opened on a
 * thread, small ones at once). Then _finish gives its operations (*out, to drop) or the error
 * envelope_open gave (errors come out there, in order, never here): the caller's thread hashes
 * operations beside the thread until all are done, so the two share that work. _cancel drops it on
 * an error path (safe when nothing was started or it was finished).
 */
void verify_open_start(struct verify_open_job *j, const struct dft_keys *k,
                       const unsigned char *env, size_t n, int64_t idx, const unsigned char *hkey,
                       struct verify_digest *total);
enum dft_err verify_open_finish(struct verify_open_job *j, struct verify_opened *out,
                                struct dft_error *err) DFT_MUST_CHECK;
void verify_open_cancel(struct verify_open_job *j);

#endif
