/*
 * test_json_arena.c - jansson trees built in an arena (crypto/json_arena.h): the same values as
 * with the usual allocator, no allocation reaches the previous allocator while a thread is in an
 * arena, other threads and code outside an arena are untouched, the bytes are wiped at release,
 * installs are counted and the last uninstall restores the allocator that was set before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto/json_arena.h"

static size_t counted_allocs;

static void *
counting_malloc(size_t n)
{
    counted_allocs++;
    return malloc(n);
}

static const char doc[] = "[{\"op\":{\"action\":\"create\",\"fields\":{\"name\":\"Refat Chubarov\","
                          "\"name_variants\":[\"Рефат Чубаров\"]},\"record\":\"per_1\"},"
                          "\"salt_key\":\"c2FsdA\"}]";

static void
test_arena_trees(void **state)
{
    (void)state;
    json_set_alloc_funcs(counting_malloc, free);
    assert_int_equal(crypto_json_arena_install(), 1);
    assert_int_equal(crypto_json_arena_install(), 1); /* counted */
    struct crypto_json_arena *a = crypto_json_arena_take();
    assert_non_null(a);
    size_t before = counted_allocs;
    crypto_json_arena_enter(a);
    json_error_t jerr;
    json_t *t = json_loadb(doc, sizeof doc - 1, JSON_REJECT_DUPLICATES, &jerr);
    crypto_json_arena_leave();
    assert_non_null(t);
    assert_int_equal(counted_allocs, before); /* every node from the arena */
    assert_int_equal(crypto_json_arena_spilled(a), 0);
    json_t *fields = json_object_get(json_object_get(json_array_get(t, 0), "op"), "fields");
    assert_string_equal(json_string_value(json_object_get(fields, "name")), "Refat Chubarov");
    /* the plaintext sits in the arena until the release wipes it */
    const char *name = json_string_value(json_object_get(fields, "name"));
    json_t *outside = json_string("outside the arena"); /* the previous allocator */
    assert_true(counted_allocs > before);
    crypto_json_arena_release(a); /* the tree is dropped with it, without a walk */
    assert_int_equal(name[0], 0);
    assert_string_equal(json_string_value(outside), "outside the arena");
    json_decref(outside);
    /* a second arena, and a tree mixed with outside values still frees correctly */
    struct crypto_json_arena *b = crypto_json_arena_take();
    assert_non_null(b);
    json_t *kept = json_string("kept");
    crypto_json_arena_enter(b);
    json_t *obj = json_object();
    assert_int_equal(json_object_set(obj, "k", kept), 0);
    crypto_json_arena_leave();
    json_decref(obj); /* a walk frees nothing of the arena, drops the reference to kept */
    crypto_json_arena_release(b);
    assert_string_equal(json_string_value(kept), "kept");
    json_decref(kept);
    crypto_json_arena_uninstall();
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    assert_ptr_not_equal(m, counting_malloc); /* one install is still counted */
    crypto_json_arena_uninstall();
    json_get_alloc_funcs(&m, &f);
    assert_ptr_equal(m, counting_malloc);
    assert_ptr_equal(f, free);
    assert_null(crypto_json_arena_take()); /* not installed: no arena */
}

/* Every slot taken: the next take gives none, and released slots are taken again. */
static void
test_arena_slots(void **state)
{
    (void)state;
    assert_int_equal(crypto_json_arena_install(), 1);
    struct crypto_json_arena *s[8];
    size_t n = 0;
    while (n < 8 && (s[n] = crypto_json_arena_take()) != NULL) {
        n++;
    }
    assert_true(n >= 2 && n < 8);
    crypto_json_arena_release(s[0]);
    struct crypto_json_arena *again = crypto_json_arena_take();
    assert_ptr_equal(again, s[0]);
    for (size_t i = 0; i < n; i++) {
        crypto_json_arena_release(s[i]);
    }
    crypto_json_arena_uninstall();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_trees),
        cmocka_unit_test(test_arena_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
