/*
 * verify_pipe.h - verify opens envelope k+1 (signature, decryption, disclosure root) on a second
 * thread while it applies envelope k to the rebuilt view. Internal to src/vault.
 */
#ifndef DEFTER_VAULT_VERIFY_PIPE_H
#define DEFTER_VAULT_VERIFY_PIPE_H

#include <pthread.h>
#include <jansson.h>

#include "crypto/keys.h"
#include "defter/core.h"

struct verify_open_job {
    const struct dft_keys *keys;
    unsigned char *env; /* a copy of the envelope (ciphertext) */
    size_t len;
    json_t *ops;          /* the result */
    enum dft_err rc;      /* the thread's result */
    struct dft_error err; /* the thread's own error record */
    pthread_t th;
    int running; /* a thread works on it: join before reading */
    int started; /* _start succeeded: _finish or _cancel must follow */
};

/*
 * Open env (n bytes, borrowed only for the call: large envelopes are copied and opened on a
 * thread, small ones at once). Then _finish gives its operations or the error envelope_open
 * gave (errors come out there, in order, never here); _cancel drops it on an error path (safe
 * when nothing was started or it was finished).
 */
void verify_open_start(struct verify_open_job *j, const struct dft_keys *k,
                       const unsigned char *env, size_t n);
enum dft_err verify_open_finish(struct verify_open_job *j, json_t **ops_out,
                                struct dft_error *err) DFT_MUST_CHECK;
void verify_open_cancel(struct verify_open_job *j);

#endif
