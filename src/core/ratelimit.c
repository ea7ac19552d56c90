/*
 * ratelimit.c - token buckets keyed by a short string (an address, a device key, a log origin),
 * for the HTTP servers (witness, sync). Fixed memory: a small open-addressing table that forgets
 * the least recent key of a neighbourhood when full. Thread-safe.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "defter/ratelimit.h"

static double
mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
dft_ratelimit_init(struct dft_ratelimit *rl, double rate)
{
    memset(rl->slots, 0, sizeof rl->slots);
    pthread_mutex_init(&rl->mu, NULL);
    rl->rate = rate;
    rl->burst = rate * 2 < 1 ? 1 : rate * 2;
}

void
dft_ratelimit_release(struct dft_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->mu);
}

int
dft_ratelimit_take(struct dft_ratelimit *rl, const char *key, unsigned *retry_after)
{
    if (rl->rate <= 0) {
        return 1;
    }
    uint32_t h = 2166136261u; /* FNV-1a: spreads keys over slots; not a secret */
    for (const char *p = key; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    double now = mono_now();
    int ok = 0;
    pthread_mutex_lock(&rl->mu);
    struct dft_ratelimit_slot *s = NULL, *oldest = NULL;
    for (unsigned i = 0; i < 8; i++) {
        struct dft_ratelimit_slot *c = &rl->slots[(h + i) % DFT_RATELIMIT_SLOTS];
        if (c->key[0] == '\0' || strcmp(c->key, key) == 0) {
            s = c;
            break;
        }
        if (oldest == NULL || c->last < oldest->last) {
            oldest = c;
        }
    }
    if (s == NULL) {
        s = oldest; /* forget the least recent key of the neighbourhood */
        s->key[0] = '\0';
    }
    if (s->key[0] == '\0') {
        snprintf(s->key, sizeof s->key, "%s", key);
        s->tokens = rl->burst;
        s->last = now;
    }
    s->tokens += (now - s->last) * rl->rate;
    if (s->tokens > rl->burst) {
        s->tokens = rl->burst;
    }
    s->last = now;
    if (s->tokens >= 1) {
        s->tokens -= 1;
        ok = 1;
    } else {
        double wait = ceil((1 - s->tokens) / rl->rate);
        *retry_after = wait < 1 ? 1 : (unsigned)wait;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}
