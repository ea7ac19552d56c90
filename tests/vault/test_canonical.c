/*
 * test_canonical.c - json_canonical (envelope.c) writes canonical JSON itself for speed; every
 * signature, digest and view row depends on its bytes, so they must equal jansson's compact,
 * key-sorted dump exactly: checked on fixed edge cases (escapes, control characters, NUL inside
 * strings, keys that sort bytewise, Cyrillic and emoji, big integers, reals and keys holding
 * NUL that go to jansson, deep nesting) and on thousands of random documents.
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

static void
assert_same(const json_t *j)
{
    struct dft_buf a, b;
    struct dft_error err = {0};
    dft_buf_init(&a, 1 << 24, 0);
    dft_buf_init(&b, 1 << 24, 0);
    assert_int_equal(dft_buf_add(&a, "pre", 3), DFT_OK); /* appends after what is there */
    assert_int_equal(dft_buf_add(&b, "pre", 3), DFT_OK);
    assert_int_equal(json_canonical(j, &a, &err), DFT_OK);
    assert_int_equal(json_canonical_jansson(j, &b, &err), DFT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    dft_buf_release(&a);
    dft_buf_release(&b);
}

static void
test_edge_cases(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{}",
        "[]",
        "\"\"",
        "0",
        "-9223372036854775808",
        "9223372036854775807",
        "true",
        "[false,null,true]",
        "{\"b\":1,\"a\":2,\"B\":3,\"_\":4,\"-\":5,\"aa\":6,\"a0\":7}",
        "{\"s\":\"quote \\\" back \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f\"}",
        "{\"c\":\"\\u0001\\u001f\\u007f\\u0000x\"}",
        "{\"name\":\"Ахтем Чийгоз\",\"crh\":\"Ahtem Çiygoz ğı\",\"e\":\"📜\"}",
        "{\"я\":1,\"z\":2,\"ç\":3,\"\\u00e9\":4}",
        "{\"r\":1.5}",
        "[1.0e10, {\"x\": [0.1]}]",
        "{\"a\":{\"c\":{\"e\":[1,{\"g\":\"h\",\"f\":[]}]},\"b\":{}}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t jerr;
        json_t *j = json_loads(docs[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (j == NULL) {
            fprintf(stderr, "doc %zu: %s\n", i, jerr.text);
        }
        assert_non_null(j);
        assert_same(j);
        json_decref(j);
    }
    /* a key holding NUL (set through the API: the parser refuses it) goes to jansson */
    json_t *nul = json_object();
    json_object_setn_new(nul, "k\0ey", 5, json_integer(1));
    json_object_set_new(nul, "k", json_integer(2));
    json_object_set_new(nul, "j", json_integer(3));
    assert_same(nul);
    json_decref(nul);
    /* deeper than the fast writer goes: jansson takes over, same bytes */
    json_t *deep = json_string("leaf");
    for (int i = 0; i < 100; i++) {
        deep = i % 2 ? json_pack("[o]", deep) : json_pack("{so}", "k", deep);
    }
    assert_same(deep);
    json_decref(deep);
    /* many keys: sorted by qsort rather than insertion */
    json_t *wide = json_object();
    for (int i = 0; i < 300; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", (i * 7919) % 1000);
        json_object_set_new(wide, k, json_integer(i));
    }
    assert_same(wide);
    json_decref(wide);
}

static const char *const pieces[] = {"a",  "Z",    "0",    "_",        "-",  "\"", "\\",
                                     "\n", "\x01", "\x1f", "\x7f",     "/",  " ",  "я",
                                     "Ç",  "ğ",    "📜",    "\xc3\xa9", "ab", "a0"};

static json_t *
random_string(void)
{
    char s[64];
    size_t n = 0;
    uint32_t k = randombytes_uniform(6);
    for (uint32_t i = 0; i < k; i++) {
        const char *p = pieces[randombytes_uniform(sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (n + l < sizeof s) {
            memcpy(s + n, p, l);
            n += l;
        }
    }
    s[n] = '\0';
    return json_stringn(s, n);
}

static json_t *
random_value(int depth)
{
    uint32_t kind = randombytes_uniform(depth > 4 ? 6 : 9);
    switch (kind) {
    case 0:
        return json_integer((json_int_t)randombytes_random() - (json_int_t)2147483648LL);
    case 1:
        return json_true();
    case 2:
        return json_false();
    case 3:
        return json_null();
    case 4:
    case 5:
        return random_string();
    case 6: {
        json_t *a = json_array();
        uint32_t n = randombytes_uniform(5);
        for (uint32_t i = 0; i < n; i++) {
            json_array_append_new(a, random_value(depth + 1));
        }
        return a;
    }
    default: {
        json_t *o = json_object();
        uint32_t n = randombytes_uniform(40);
        for (uint32_t i = 0; i < n; i++) {
            json_t *k = random_string();
            json_object_set_new(o, json_string_value(k), random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void
test_random_documents(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *j = random_value(0);
        assert_same(j);
        json_decref(j);
    }
}

static void
test_limit_keeps_buffer(void **state)
{
    (void)state;
    /* a buffer too small fails with TOO_LARGE and keeps what was there before */
    struct dft_buf b;
    struct dft_error err = {0};
    dft_buf_init(&b, 16, 0);
    assert_int_equal(dft_buf_add(&b, "keep", 4), DFT_OK);
    json_t *j = json_pack("{ss}", "name", "a value longer than the buffer allows");
    assert_int_equal(json_canonical(j, &b, &err), DFT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 4);
    json_decref(j);
    dft_buf_release(&b);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_random_documents),
        cmocka_unit_test(test_limit_keeps_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
