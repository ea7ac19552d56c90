/*
 * proof.c - libFuzzer harness for inclusion and consistency proof verification.
 *
 * Input: 1 byte index/old size, 1 byte tree size/new size, 1 byte flags, then 32-byte hashes
 * (leaf or old root, root, proof...). Against a fixed 40-leaf reference tree, a proof that
 * verifies must be for the true leaf and the true roots (soundness), and must never crash.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "log/tlog.h"

enum { N = 40 };

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static unsigned char leaves[N][32];
static unsigned char roots[N + 1][32];

static uint64_t
split(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    return k;
}

static void
mth(unsigned char out[32], const unsigned char (*l)[32], uint64_t n)
{
    if (n == 0) {
        tlog_hash_empty(out);
    } else if (n == 1) {
        memcpy(out, l[0], 32);
    } else {
        uint64_t k = split(n);
        unsigned char a[32], b[32];
        mth(a, l, k);
        mth(b, l + k, n - k);
        tlog_hash_node(out, a, b);
    }
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sodium_init() < 0) {
            abort();
        }
        for (unsigned i = 0; i < N; i++) {
            crypto_leaf_hash(leaves[i], &i, sizeof i);
        }
        for (unsigned n = 0; n <= N; n++) {
            mth(roots[n], (const unsigned char(*)[32])leaves, n);
        }
        ready = 1;
    }
    if (size < 3 + 64) {
        return 0;
    }
    uint64_t a = data[0] % (N + 2);
    uint64_t b = data[1] % (N + 2);
    unsigned flags = data[2];
    const unsigned char *h1 = data + 3;
    const unsigned char *h2 = data + 35;
    const unsigned char(*proof)[32] = (const unsigned char(*)[32])(data + 67);
    size_t n = (size - 67) / 32;
    if (n > DFT_TLOG_PROOF_MAX) {
        n = DFT_TLOG_PROOF_MAX;
    }
    /* Copy so that the proof array is aligned to nothing in particular but in bounds. */
    unsigned char(*p)[32] = malloc(n > 0 ? n * 32 : 1);
    if (p == NULL) {
        return 0;
    }
    memcpy(p, proof, n * 32);
    if ((flags & 1) == 0) {
        if (tlog_verify_inclusion(a, b, h1, (const unsigned char(*)[32])p, n, h2, NULL) == DFT_OK &&
            b <= N && memcmp(h2, roots[b], 32) == 0 && memcmp(h1, leaves[a], 32) != 0) {
            abort(); /* a wrong leaf proven into a true root */
        }
    } else {
        if (tlog_verify_consistency(a, b, h1, h2, (const unsigned char(*)[32])p, n, NULL) ==
                DFT_OK &&
            b <= N && memcmp(h2, roots[b], 32) == 0 && memcmp(h1, roots[a], 32) != 0) {
            abort(); /* a forged old root proven consistent with a true new root */
        }
    }
    free(p);
    return 0;
}
