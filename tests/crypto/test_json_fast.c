/*
 * test_json_fast.c - the fast JSON path (crypto/json_fast.h) against json_loadb: what it accepts
 * parses to an equal tree with members in the same order; what is outside its subset (whitespace,
 * reals, \u escapes, duplicate keys, bad UTF-8, deep nesting, trailing bytes...) it declines, and
 * crypto_json_loadb then gives json_loadb's own answer; random canonical documents (the shape the
 * vault writes) are all accepted, and random mutations of them never parse differently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto/json_fast.h"

static size_t canonical_seen; /* documents the fast path took as canonical */

/* 1 when the fast path accepted buf; when it did, json_loadb gives the same tree, same order. */
static int
agrees(const char *buf, size_t n)
{
    size_t off[8], len[8];
    struct crypto_json_fast_spans sp = {"op", 2, 8, off, len, 0};
    json_t *f = crypto_json_parse_fast_ex(buf, n, &sp);
    json_error_t jerr;
    json_t *j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    json_t *j0 = json_loadb(buf, n, 0, &jerr);
    json_t *l = crypto_json_loadb(buf, n, JSON_REJECT_DUPLICATES);
    /* crypto_json_loadb is json_loadb, whichever path it took */
    assert_int_equal(l != NULL, j != NULL);
    if (l != NULL) {
        assert_true(json_equal(l, j));
    }
    json_decref(l);
    if (f != NULL) {
        assert_non_null(j);
        assert_non_null(j0);
        assert_true(json_equal(f, j));
        char *a = json_dumps(f, JSON_COMPACT | JSON_ENCODE_ANY); /* members in their order */
        char *b = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(a);
        free(b);
        /* taken as canonical: buf is jansson's sorted compact dump, and so is every span */
        if (sp.canonical) {
            canonical_seen++;
            char *c = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
            assert_non_null(c);
            assert_int_equal(strlen(c), n);
            assert_memory_equal(c, buf, n);
            free(c);
            for (size_t i = 0; json_is_array(f) && i < json_array_size(f) && i < 8; i++) {
                json_t *op = json_object_get(json_array_get(f, i), "op");
                assert_int_equal(len[i] > 0, op != NULL);
                if (op != NULL) {
                    char *o = json_dumps(op, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                    assert_int_equal(strlen(o), len[i]);
                    assert_memory_equal(o, buf + off[i], len[i]);
                    free(o);
                }
            }
        }
    }
    json_decref(j);
    json_decref(j0);
    int accepted = f != NULL;
    json_decref(f);
    return accepted;
}

static int
agrees_str(const char *s)
{
    return agrees(s, strlen(s));
}

static void
test_fast_accepts(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "[]",
        "{}",
        "[1,-2,0,-0,123456789012345678,-123456789012345678]",
        "[999999999999999999,-999999999999999999]", /* 18 digits: the longest taken */
        "[true,false,null,\"\",[],{}]",
        "{\"b\":1,\"a\":2,\"\":3}",
        "[{\"op\":{\"action\":\"create\",\"fields\":{\"name\":\"Refat Chubarov\","
        "\"name_variants\":[\"Рефат Чубаров\",\"Çiygoz\"]},\"record\":\"per_1\"},"
        "\"salt_key\":\"c2FsdA\"}]",
        "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"]",
        "{\"k\\\"ey\":\"v\",\"k\":[[[[1]]]]}",
        "[\"\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9\xef\xbf\xbf\xf4\x8f\xbf\xbf\"]",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(agrees_str(ok[i]));
    }
}

static void
test_fast_declines(void **state)
{
    (void)state;
    static const char *const no[] = {
        "",
        " []",
        "[ ]",
        "[1, 2]",
        "{\"a\" :1}",
        "[]\n",
        "[1.5]",
        "[1e3]",
        "[1E3]",
        "[01]",
        "[-]",
        "[+1]",
        "[1234567890123456789]",
        "[9999999999999999999]", /* 19 digits: would overflow a long long before the check */
        "[-9999999999999999999]",
        "[99999999999999999999999999999999]",
        "[9223372036854775807]",
        "[-9223372036854775808]",
        "[\"\\u0041\"]",
        "[\"\\u0000\"]",
        "[\"\\x\"]",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"a\":1}",
        "[\"\xc0\x80\"]",         /* overlong */
        "[\"\xe0\x80\x80\"]",     /* overlong */
        "[\"\xed\xa0\x80\"]",     /* a surrogate */
        "[\"\xf4\x90\x80\x80\"]", /* past U+10FFFF */
        "[\"\xf0\x80\x80\x80\"]", /* overlong */
        "[\"\x80\"]",             /* a lone continuation */
        "[\"\xc3\"]",             /* cut short */
        "[\"a\tb\"]",             /* a control character */
        "[tru]",
        "[truex]",
        "[nul]",
        "[1]x",
        "[1][2]",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{a:1}",
        "{\"a\":1,}",
        "\"top\"",
        "1",
        "[\"unterminated",
        "[1",
        "{\"a\":1",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        assert_false(agrees_str(no[i]));
    }
    /* a NUL byte inside the buffer */
    assert_false(agrees("[\"a\0b\"]", 7));
    assert_false(agrees("[1]\0", 4));
    /* nesting past the fast path's depth: declined, jansson decides */
    char deep[300];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    assert_false(agrees(deep, 200));
    assert_true(agrees(deep + 36, 128)); /* 64 deep: accepted */
    /* an escaped string longer than the fast path's buffer */
    size_t big = 3000;
    char *s = malloc(big + 8);
    assert_non_null(s);
    memcpy(s, "[\"\\n", 4);
    memset(s + 4, 'x', big);
    memcpy(s + 4 + big, "\"]", 2);
    assert_false(agrees(s, big + 6));
    memcpy(s, "[\"xx", 4); /* the same length without an escape: in place, accepted */
    assert_true(agrees(s, big + 6));
    free(s);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static json_t *
random_string(void)
{
    static const char *const parts[] = {"a", "Z", "0", " ", "\"", "\\",   "/",    "\n",  "\t",
                                        "é", "Я", "ğ", "€", "😀",  "\x7f", "\x01", "key", "name"};
    char buf[64];
    size_t n = 0;
    size_t k = rnd(6);
    for (size_t i = 0; i < k; i++) {
        const char *p = parts[rnd(sizeof parts / sizeof parts[0])];
        size_t l = strlen(p);
        if (n + l < sizeof buf) {
            memcpy(buf + n, p, l);
            n += l;
        }
    }
    return json_stringn(buf, n);
}

static json_t *
random_value(int depth)
{
    switch (rnd(depth > 3 ? 5 : 7)) {
    case 0:
        return json_integer((json_int_t)rnd(2000000) - 1000000);
    case 1:
        return rnd(2) ? json_true() : json_false();
    case 2:
        return json_null();
    case 3:
    case 4:
        return random_string();
    case 5: {
        json_t *a = json_array();
        size_t n = rnd(5);
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(a, random_value(depth + 1));
        }
        return a;
    }
    default: {
        json_t *o = json_object();
        size_t n = rnd(5);
        for (size_t i = 0; i < n; i++) {
            json_t *k = random_string();
            json_object_set_new(o, json_string_value(k), random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

/* The vault's canonical form parses on the fast path; mutations never parse differently. */
static void
test_fast_random(void **state)
{
    (void)state;
    size_t accepted = 0, mutated_ok = 0;
    for (int round = 0; round < 3000; round++) {
        json_t *doc = json_array();
        size_t n = 1 + rnd(4);
        for (size_t i = 0; i < n; i++) {
            json_t *v = random_value(0);
            if (rnd(2)) { /* an envelope's item */
                v = json_pack("{s:o,s:s}", "op", v, "salt_key", "c2FsdA");
            }
            json_array_append_new(doc, v);
        }
        char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        assert_non_null(s);
        size_t len = strlen(s);
        /* jansson writes control characters as \u escapes: those the fast path declines */
        int plain = strstr(s, "\\u") == NULL;
        assert_int_equal(agrees(s, len), plain);
        accepted += (size_t)plain;
        for (int m = 0; m < 8; m++) {
            char *t = malloc(len + 1);
            assert_non_null(t);
            memcpy(t, s, len + 1);
            size_t at = rnd((uint32_t)len);
            static const char bytes[] = "[]{}\",:\\0123456789-tfnuel.eE \x80\xc3\xe2\xf0\xbf";
            t[at] = bytes[rnd(sizeof bytes - 1)];
            mutated_ok += (size_t)agrees(t, len - (size_t)rnd(2) * (at == len - 1));
            free(t);
        }
        free(s);
        json_decref(doc);
    }
    assert_true(accepted > 1000);
    assert_true(canonical_seen > 500);
    assert_true(mutated_ok > 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_accepts),
        cmocka_unit_test(test_fast_declines),
        cmocka_unit_test(test_fast_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
