/*
 * test_secpool.c - the secure pool: blocks are wiped when freed, their memory is excluded from
 * core dumps (the "dd" flag in /proc/self/smaps), sizes and realloc keep their contract, and
 * freed small blocks are reused, also through the per-thread caches of freed blocks.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/secpool.h"

/* 1 when the mapping holding p has the "dd" (do not dump) VmFlag. */
static int
not_dumped(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0;
    int dd = 0;
    uintptr_t a = (uintptr_t)p;
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo = 0;
        unsigned long hi = 0;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
            strchr(line, '-') == line + strcspn(line, "-")) {
            inside = a >= lo && a < hi;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            dd = strstr(line, " dd") != NULL;
            break;
        }
    }
    fclose(f);
    return dd;
}

static void
test_secpool__wiped_on_free_and_not_dumped(void **state)
{
    static const size_t sizes[] = {1, 16, 100, 4096 + 200, 70000, 300000, 5u << 20};
    (void)state;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        unsigned char *p = crypto_secpool_alloc(n);
        assert_non_null(p);
        assert_true(((uintptr_t)p & 15) == 0);
        assert_true(crypto_secpool_size(p) >= n);
        assert_int_equal(crypto_secpool_size(p), crypto_secpool_roundup(n));
        assert_true(crypto_secpool_size(p) <= n + n / 4 + 32 || n > (256u << 10));
        assert_true(not_dumped(p));
        memset(p, 0x5a, n);
        crypto_secpool_free(p);
        if (n <= 100000) { /* small blocks stay mapped: their bytes must be zero now */
            for (size_t i = 0; i < n; i++) {
                if (p[i] != 0) {
                    fail_msg("byte %zu of a freed %zu-byte block not wiped", i, n);
                }
            }
            unsigned char *q = crypto_secpool_alloc(n);
            assert_ptr_equal(q, p); /* reused */
            crypto_secpool_free(q);
        }
    }
}

static void
test_secpool__realloc_keeps_bytes(void **state)
{
    (void)state;
    unsigned char *p = crypto_secpool_alloc(10);
    memcpy(p, "0123456789", 10);
    unsigned char *q = crypto_secpool_realloc(p, 100000);
    assert_non_null(q);
    assert_memory_equal(q, "0123456789", 10);
    q = crypto_secpool_realloc(q, 5);
    assert_memory_equal(q, "01234", 5);
    crypto_secpool_free(q);
    crypto_secpool_free(NULL);
    assert_null(crypto_secpool_alloc(0));
}

#define XT_BLOCKS 2000

struct xt_job {
    unsigned char *blocks[XT_BLOCKS];
    size_t sizes[XT_BLOCKS];
};

/* Allocate blocks of many small sizes and fill them (the other thread frees them). */
static void *
xt_alloc(void *arg)
{
    struct xt_job *j = arg;
    for (size_t i = 0; i < XT_BLOCKS; i++) {
        j->sizes[i] = 1 + (i * 37) % 3000;
        j->blocks[i] = crypto_secpool_alloc(j->sizes[i]);
        if (j->blocks[i] != NULL) {
            memset(j->blocks[i], 0xa5, j->sizes[i]);
        }
    }
    return NULL;
}

/* Free every block (into this thread's cache or the shared lists) and check each is wiped. */
static void *
xt_free(void *arg)
{
    struct xt_job *j = arg;
    size_t bad = 0;
    for (size_t i = 0; i < XT_BLOCKS; i++) {
        crypto_secpool_free(j->blocks[i]);
        for (size_t k = 0; k < j->sizes[i]; k++) {
            bad += j->blocks[i][k] != 0;
        }
    }
    return (void *)(uintptr_t)bad;
}

static void
test_secpool__blocks_cross_threads_wiped_and_reused(void **state)
{
    (void)state;
    static struct xt_job jobs[4];
    size_t mapped0 = 0;
    size_t live0 = 0;
    crypto_secpool_stats(&mapped0, &live0);
    for (int round = 0; round < 3; round++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            assert_int_equal(pthread_create(&t[i], NULL, xt_alloc, &jobs[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            assert_int_equal(pthread_join(t[i], NULL), 0);
            for (size_t k = 0; k < XT_BLOCKS; k++) {
                assert_non_null(jobs[i].blocks[k]);
            }
            assert_true(not_dumped(jobs[i].blocks[XT_BLOCKS - 1]));
        }
        size_t mapped = 0;
        size_t live = 0;
        crypto_secpool_stats(&mapped, &live);
        assert_int_equal(live, live0 + 4 * XT_BLOCKS);
        /* freed by other threads than those that allocated them */
        for (int i = 0; i < 4; i++) {
            assert_int_equal(pthread_create(&t[i], NULL, xt_free, &jobs[(i + 1) % 4]), 0);
        }
        for (int i = 0; i < 4; i++) {
            void *bad = NULL;
            assert_int_equal(pthread_join(t[i], &bad), 0);
            assert_int_equal((uintptr_t)bad, 0);
        }
        crypto_secpool_stats(&mapped, &live);
        assert_int_equal(live, live0);
        if (round == 0) {
            mapped0 = mapped;
        } else {
            /* the exited threads' caches went back to the pool: nothing new was mapped */
            assert_int_equal(mapped, mapped0);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secpool__wiped_on_free_and_not_dumped),
        cmocka_unit_test(test_secpool__realloc_keeps_bytes),
        cmocka_unit_test(test_secpool__blocks_cross_threads_wiped_and_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
