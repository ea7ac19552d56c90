/*
 * cosign.h - the client side of c2sp.org/tlog-witness: ask every witness for a cosignature of
 * one checkpoint, in parallel (libcurl multi), and check each answer against that witness's
 * key. Independent of the vault: the caller supplies consistency proofs through a callback, so
 * the sync server can use the same code. Internal to libdefter.
 *
 * Per witness: send "old LAST" with the proof from LAST to the checkpoint's size; on 409 with a
 * size no larger than the checkpoint's, retry once from that size. A 200 counts only when its
 * body holds a cosignature line by the witness's key that verifies over the checkpoint; lines
 * by other keys are ignored. A 422, or a witness that holds a larger size than the checkpoint,
 * is reported as COSIGN_FORK: the witness has seen another history of this log.
 */
#ifndef DEFTER_LOG_COSIGN_H
#define DEFTER_LOG_COSIGN_H

#include "defter/core.h"
#include "log/tlog.h"

enum cosign_result { COSIGN_FAILED = 0, COSIGN_OK, COSIGN_FORK };

#define COSIGN_LINE_MAX 512
#define COSIGN_MSG_MAX  256

struct cosign_target {
    /* in */
    const struct dft_note_verifier *key; /* the witness's cosignature/v1 key */
    const char *url;                     /* its submission prefix (no trailing '/') */
    uint64_t last_size;                  /* the size it held last time (0: unknown) */
    /* out */
    enum cosign_result result;
    long http;                  /* the last HTTP status (0: no answer) */
    uint64_t witness_size;      /* the size the witness holds now, when size_known */
    int size_known;             /* 1 after a 200 or a 409 */
    char line[COSIGN_LINE_MAX]; /* COSIGN_OK: the verified cosignature line with its newline */
    uint64_t timestamp;         /* COSIGN_OK: its time */
    char msg[COSIGN_MSG_MAX];   /* otherwise: what went wrong, one line */
};

/* The consistency proof from old_size to new_size (0 < old_size < new_size). */
typedef enum dft_err (*cosign_proof_fn)(void *ctx, uint64_t old_size, uint64_t new_size,
                                        unsigned char (*proof)[DFT_TLOG_HASH_BYTES],
                                        size_t *proof_len, struct dft_error *err);

/*
 * Ask targets[0..n) to cosign note (a checkpoint signed by its log). Fills each target's
 * outputs; fails only for a malformed note or a failing proof callback (then no target counts).
 * timeout_ms bounds each HTTP exchange.
 */
enum dft_err cosign_gather(const char *note, size_t note_len, struct cosign_target *targets,
                           size_t n, cosign_proof_fn proof, void *ctx, long timeout_ms,
                           struct dft_error *err) DFT_MUST_CHECK;

#endif
