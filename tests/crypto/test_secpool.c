/*
 * test_secpool.c - the secure pool: blocks are wiped when freed, their memory is excluded from
 * core dumps (the "dd" flag in /proc/self/smaps), sizes and realloc keep their contract, and
 * freed small blocks are reused.
 */
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secpool__wiped_on_free_and_not_dumped),
        cmocka_unit_test(test_secpool__realloc_keeps_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
