/*
 * test_oppath.c - sd_op_path gives exactly RFC 9162 PATH(m, D[0:n]) with every sibling
 * computed afresh by sd_tree_root (what disclosures carried before the subtree roots were
 * kept), for every m of every n up to 70 and a large envelope, also when envelopes alternate
 * or one envelope's hashes change under the same size, and the path verifies against the root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/oppath.h"

/* The reference: PATH as export.c computed it before (siblings from sd_tree_root). */
static size_t
ref_path(unsigned char *out, size_t m, const unsigned char *h, size_t n)
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
        got = ref_path(out, m, h, k);
        sd_tree_root(out + got * 32, h + k * 32, n - k);
    } else {
        got = ref_path(out, m - k, h + k * 32, n - k);
        sd_tree_root(out + got * 32, h, k);
    }
    return got + 1;
}

static void
same_as_reference(const unsigned char *h, size_t n, size_t m)
{
    unsigned char got[SD_PATH_MAX * 32];
    unsigned char want[SD_PATH_MAX * 32];
    size_t a = sd_op_path(got, m, h, n);
    size_t b = ref_path(want, m, h, n);
    assert_int_equal(a, b);
    assert_memory_equal(got, want, a * 32);
}

static void
test_every_index_of_small_trees(void **state)
{
    (void)state;
    static unsigned char h[70 * 32];
    randombytes_buf(h, sizeof h);
    for (size_t n = 1; n <= 70; n++) {
        for (size_t m = 0; m < n; m++) {
            same_as_reference(h, n, m);
        }
    }
}

static void
test_path_verifies_against_root(void **state)
{
    (void)state;
    static unsigned char h[1000 * 32];
    unsigned char root[32];
    unsigned char leaf[32];
    unsigned char p[SD_PATH_MAX * 32];
    randombytes_buf(h, sizeof h);
    sd_tree_root(root, h, 1000);
    for (size_t m = 0; m < 1000; m += 37) {
        size_t k = sd_op_path(p, m, h, 1000);
        sd_tree_root(leaf, h + m * 32, 1); /* the leaf hash */
        assert_int_equal(
            tlog_verify_inclusion(m, 1000, leaf, (const unsigned char(*)[32])p, k, root, NULL),
            DFT_OK);
        same_as_reference(h, 1000, m);
    }
}

static void
test_kept_roots_follow_the_leaves(void **state)
{
    (void)state;
    static unsigned char a[300 * 32];
    static unsigned char b[300 * 32];
    randombytes_buf(a, sizeof a);
    memcpy(b, a, sizeof b);
    b[150 * 32 + 5] ^= 1; /* same size, one operation hash differs */
    for (size_t m = 0; m < 300; m += 13) {
        same_as_reference(a, 300, m);
        same_as_reference(b, 300, m);
        same_as_reference(a, 299, m < 299 ? m : 0);
    }
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_of_small_trees),
        cmocka_unit_test(test_path_verifies_against_root),
        cmocka_unit_test(test_kept_roots_follow_the_leaves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
