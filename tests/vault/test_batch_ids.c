/*
 * test_batch_ids.c - the pieces of the batch add path that replaced jansson and one getrandom
 * per id: the id set (idset.c) keeps first-add order and finds every id, also across its
 * growth; a batch's random id parts come sorted, distinct and give ids that sort as their bits;
 * json_canonical_strings writes the bytes json_canonical writes for the same array.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault/envelope.h"
#include "vault/idset.h"
#include "vault/vault_internal.h"

static void
test_idset(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char ids[N][24];
    struct vault_idset s = VAULT_IDSET_INIT;
    assert_int_equal(vault_idset_find(&s, "absent"), 0);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "per_%d", i);
        size_t pos = 99;
        assert_int_equal(vault_idset_add(&s, ids[i], &pos), 1);
        assert_int_equal(pos, (size_t)i);
    }
    char again[24];
    for (int i = 0; i < N; i++) {
        snprintf(again, sizeof again, "per_%d", i); /* another pointer, the same text */
        size_t pos = 99;
        assert_int_equal(vault_idset_add(&s, again, &pos), 0);
        assert_int_equal(pos, (size_t)i);
        assert_int_equal(vault_idset_find(&s, again), (size_t)i + 1);
        assert_ptr_equal(s.ids[i], ids[i]); /* first-add order, the first pointer kept */
    }
    assert_int_equal(s.n, N);
    assert_int_equal(vault_idset_find(&s, "per_5000"), 0);
    assert_int_equal(vault_idset_find(&s, ""), 0);
    vault_idset_free(&s);
    assert_int_equal(vault_idset_find(&s, "per_1"), 0);
}

static void
test_sorted_ids(void **state)
{
    (void)state;
    enum { N = 3000 };
    unsigned char *r = vault_ids_random_sorted(N);
    assert_non_null(r);
    char prev[DFT_ID_MAX] = "";
    for (size_t i = 0; i < N; i++) {
        char id[DFT_ID_MAX];
        vault_id_from_random(id, "per", r + i * VAULT_ID_RANDOM_BYTES);
        assert_int_equal(strlen(id), 4 + 16);
        assert_memory_equal(id, "per_", 4);
        assert_true(strcmp(prev, id) < 0); /* ascending and distinct */
        snprintf(prev, sizeof prev, "%s", id);
    }
    free(r);
    /* the ids' order is their bits' order: all-zero and all-one bits at the ends */
    unsigned char lo[VAULT_ID_RANDOM_BYTES] = {0}, hi[VAULT_ID_RANDOM_BYTES];
    memset(hi, 0xff, sizeof hi);
    char a[DFT_ID_MAX], b[DFT_ID_MAX];
    vault_id_from_random(a, "op", lo);
    vault_id_from_random(b, "op", hi);
    assert_string_equal(a, "op_0000000000000000");
    assert_string_equal(b, "op_zzzzzzzzzzzzzzzz");
    assert_null(vault_ids_random_sorted(0));
}

static void
test_canonical_strings(void **state)
{
    (void)state;
    const char *const v[] = {"per_1", "q\"uote", "back\\slash", "ctl\x01\n", "Вариант", ""};
    for (size_t n = 0; n <= sizeof v / sizeof v[0]; n++) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(arr, json_string(v[i]));
        }
        struct dft_buf a, b;
        struct dft_error err = {0};
        dft_buf_init(&a, 1 << 20, 0);
        dft_buf_init(&b, 1 << 20, 0);
        assert_int_equal(json_canonical(arr, &a, &err), DFT_OK);
        assert_int_equal(json_canonical_strings(v, n, &b, &err), DFT_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        dft_buf_release(&a);
        dft_buf_release(&b);
        json_decref(arr);
    }
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idset),
        cmocka_unit_test(test_sorted_ids),
        cmocka_unit_test(test_canonical_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
