/*
 * oppath.c - inclusion paths over an envelope's operation hashes (oppath.h).
 *
 * Each path needs the roots of the sibling subtrees, about 2n hashes when computed afresh; a
 * brief or export discloses many operations of one envelope in a row, which made that n^2 (a
 * third of a brief's CPU for an envelope of 500 operations). The complete, aligned subtrees'
 * roots are computed once per envelope and kept per thread with a copy of the hashes they came
 * from, so they are only reused for exactly the same leaves. Nothing kept is secret: the
 * operation hashes are in every disclosure.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/oppath.h"

struct levels {
    unsigned char *leaves; /* copy of the n operation hashes the levels were built from */
    size_t n;
    unsigned char *level[SD_PATH_MAX]; /* level[j][i]: root of leaves [i 2^j, (i+1) 2^j) */
    size_t depth;                      /* levels built */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int key_ok;

static void
levels_free(struct levels *l)
{
    for (size_t j = 0; j < l->depth; j++) {
        free(l->level[j]);
    }
    free(l->leaves);
    memset(l, 0, sizeof *l);
}

static void
levels_destroy(void *p)
{
    if (p != NULL) {
        levels_free(p);
        free(p);
    }
}

static void
key_setup(void)
{
    key_ok = pthread_key_create(&key, levels_destroy) == 0;
}

/* The levels of h[0:n], built or kept for this thread (freed when it exits); NULL: no memory. */
static struct levels *
levels_of(const unsigned char *h, size_t n)
{
    (void)pthread_once(&once, key_setup);
    if (!key_ok) {
        return NULL;
    }
    struct levels *l = pthread_getspecific(key);
    if (l == NULL) {
        if ((l = calloc(1, sizeof *l)) == NULL) {
            return NULL;
        }
        if (pthread_setspecific(key, l) != 0) {
            free(l);
            return NULL;
        }
    }
    if (l->leaves != NULL && l->n == n && memcmp(l->leaves, h, n * DFT_HASH_BYTES) == 0) {
        return l;
    }
    levels_free(l);
    if ((l->leaves = malloc(n * DFT_HASH_BYTES)) == NULL) {
        return NULL;
    }
    memcpy(l->leaves, h, n * DFT_HASH_BYTES);
    l->n = n;
    for (size_t j = 0, count = n; count >= 1 && j < SD_PATH_MAX; j++, count /= 2) {
        unsigned char *lv = malloc(count * DFT_HASH_BYTES);
        if (lv == NULL) {
            levels_free(l);
            return NULL;
        }
        for (size_t i = 0; i < count; i++) {
            unsigned char *o = lv + i * DFT_HASH_BYTES;
            if (j == 0) {
                crypto_leaf_hash(o, h + i * DFT_HASH_BYTES, DFT_HASH_BYTES);
            } else {
                const unsigned char *below = l->level[j - 1];
                tlog_hash_node(o, below + 2 * i * DFT_HASH_BYTES,
                               below + (2 * i + 1) * DFT_HASH_BYTES);
            }
        }
        l->level[j] = lv;
        l->depth = j + 1;
    }
    return l;
}

/* Root of leaves [start, start + len) (len >= 1; complete subtrees are aligned). */
static void
subtree_root(unsigned char out[DFT_HASH_BYTES], const struct levels *l, const unsigned char *h,
             size_t start, size_t len)
{
    if (l == NULL) {
        sd_tree_root(out, h + start * DFT_HASH_BYTES, len);
        return;
    }
    if ((len & (len - 1)) == 0) {
        size_t j = (size_t)__builtin_ctzll((unsigned long long)len);
        memcpy(out, l->level[j] + (start >> j) * DFT_HASH_BYTES, DFT_HASH_BYTES);
        return;
    }
    size_t k = 1;
    while (k * 2 < len) {
        k *= 2;
    }
    unsigned char left[DFT_HASH_BYTES], right[DFT_HASH_BYTES];
    subtree_root(left, l, h, start, k);
    subtree_root(right, l, h, start + k, len - k);
    tlog_hash_node(out, left, right);
}

static size_t
path(unsigned char *out, const struct levels *l, const unsigned char *h, size_t m, size_t start,
     size_t n)
{
    if (n <= 1) {
        return 0;
    }
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    size_t got;
    if (m < k) {
        got = path(out, l, h, m, start, k);
        subtree_root(out + got * DFT_HASH_BYTES, l, h, start + k, n - k);
    } else {
        got = path(out, l, h, m - k, start + k, n - k);
        subtree_root(out + got * DFT_HASH_BYTES, l, h, start, k);
    }
    return got + 1;
}

size_t
sd_op_path(unsigned char out[SD_PATH_MAX * DFT_HASH_BYTES], size_t m, const unsigned char *h,
           size_t n)
{
    if (n <= 1 || m >= n) {
        return 0;
    }
    /* without memory for the levels, each sibling is computed afresh (the same bytes) */
    return path(out, levels_of(h, n), h, m, 0, n);
}
