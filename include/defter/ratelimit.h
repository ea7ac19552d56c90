/*
 * ratelimit.h - token buckets for the HTTP servers (src/core/ratelimit.c): the witness and the
 * sync server, each front end keyed by address, device or log
 */
#ifndef DEFTER_RATELIMIT_H
#define DEFTER_RATELIMIT_H

#include <pthread.h>

#include "defter/core.h"

#define DFT_RATELIMIT_SLOTS 4096
#define DFT_RATELIMIT_KEY   64

struct dft_ratelimit_slot {
    char key[DFT_RATELIMIT_KEY]; /* "" when free */
    double tokens;
    double last; /* monotonic seconds of the last refill */
};

/* Token buckets: rate per second, burst = max(1, 2 * rate). rate 0 disables. */
struct dft_ratelimit {
    pthread_mutex_t mu;
    double rate, burst;
    struct dft_ratelimit_slot slots[DFT_RATELIMIT_SLOTS];
};

DFT_EXPORT void dft_ratelimit_init(struct dft_ratelimit *rl, double rate);
DFT_EXPORT void dft_ratelimit_release(struct dft_ratelimit *rl);
/* 1 when key may go on now; else 0 and *retry_after (whole seconds >= 1). */
DFT_EXPORT int dft_ratelimit_take(struct dft_ratelimit *rl, const char *key, unsigned *retry_after);

#endif
