/*
 * test_http_parse.c - table-driven cases for the request parsers of `defter ui`
 * (src/server/http_parse.c): Host, Origin, Cookie, tokens, paths, percent-decoding, Range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/http_parse.h"

static void
test_http_host_ok__only_loopback_names_with_our_port(void **state)
{
    static const struct {
        const char *host;
        int ok;
    } cases[] = {
        {"127.0.0.1:8080", 1}, {"localhost:8080", 1},    {"127.0.0.1:08080", 0},
        {"127.0.0.1:808", 0},  {"127.0.0.1:80800", 0},   {"127.0.0.1", 0},
        {"localhost", 0},      {"evil.example:8080", 0}, {"127.0.0.1.evil:8080", 0},
        {"LOCALHOST:8080", 0}, {"[::1]:8080", 0},        {"127.0.0.1:8080 ", 0},
        {"0.0.0.0:8080", 0},   {"127.0.0.2:8080", 0},    {"", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (http_host_ok(cases[i].host, 8080) != cases[i].ok) {
            fail_msg("host '%s'", cases[i].host);
        }
    }
    assert_false(http_host_ok(NULL, 8080));
    assert_false(http_host_ok("127.0.0.1:0", 0));
}

static void
test_http_origin_ok__same_origin_only(void **state)
{
    (void)state;
    assert_true(http_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"));
    assert_false(http_origin_ok("http://localhost:8080", "127.0.0.1:8080"));
    assert_false(http_origin_ok("https://127.0.0.1:8080", "127.0.0.1:8080"));
    assert_false(http_origin_ok("null", "127.0.0.1:8080"));
    assert_false(http_origin_ok("http://127.0.0.1:8080/", "127.0.0.1:8080"));
    assert_false(http_origin_ok(NULL, "127.0.0.1:8080"));
    assert_false(http_origin_ok("http://", ""));
}

static void
test_http_fetch_site_ok__same_origin_or_none(void **state)
{
    (void)state;
    assert_true(dft_http_fetch_site_ok(NULL));
    assert_true(dft_http_fetch_site_ok("same-origin"));
    assert_true(dft_http_fetch_site_ok("none"));
    assert_false(dft_http_fetch_site_ok("same-site"));
    assert_false(dft_http_fetch_site_ok("cross-site"));
    assert_false(dft_http_fetch_site_ok(""));
    assert_false(dft_http_fetch_site_ok("same-origin "));
    assert_false(dft_http_fetch_site_ok("Same-Origin"));
}

static void
test_http_cookie_find__exact_name_once(void **state)
{
    const char *v;
    size_t n;
    (void)state;
    assert_true(http_cookie_find("a=1; s=xyz; b=2", "s", &v, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(v, "xyz", 3);
    assert_true(http_cookie_find(" s = q ", "s", &v, &n));
    assert_int_equal(n, 1);
    assert_false(http_cookie_find("ss=1; xs=2", "s", &v, &n));
    assert_false(http_cookie_find("s=1; s=2", "s", &v, &n)); /* tossing */
    assert_false(http_cookie_find("s", "s", &v, &n));
    assert_false(http_cookie_find("", "s", &v, &n));
    assert_true(http_cookie_find("s=", "s", &v, &n));
    assert_int_equal(n, 0);
}

static void
test_http_token_eq__length_and_content(void **state)
{
    (void)state;
    assert_true(http_token_eq("abcd", 4, "abcd"));
    assert_false(http_token_eq("abce", 4, "abcd"));
    assert_false(http_token_eq("abc", 3, "abcd"));
    assert_false(http_token_eq("abcd", 4, ""));
    assert_false(http_token_eq("", 0, ""));
}

static void
test_http_path_ok__refuses_traversal(void **state)
{
    static const struct {
        const char *path;
        int ok;
    } cases[] = {
        {"/", 1},
        {"/index.html", 1},
        {"/js/app.js", 1},
        {"/api/records/per_1", 1},
        {"", 0},
        {"index.html", 0},
        {"/../etc/passwd", 0},
        {"/js/../x", 0},
        {"/..", 0},
        {"/.", 0},
        {"/./x", 0},
        {"//x", 0},
        {"/x//y", 0},
        {"/a\\b", 0},
        {"/a b", 0},
        {"/a\x01", 0},
        {"/caf\xc3\xa9", 0},
        {"/..x", 1},
        {"/x..", 1},
    };
    char long_path[DFT_HTTP_PATH_MAX + 2];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (http_path_ok(cases[i].path) != cases[i].ok) {
            fail_msg("path '%s'", cases[i].path);
        }
    }
    memset(long_path, 'a', sizeof long_path);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    assert_false(http_path_ok(long_path));
}

static void
test_http_unescape__decodes_and_defuses_nul(void **state)
{
    char a[] = "/%2e%2E/x%2Fy";
    char b[] = "/index.html%00.js";
    char c[] = "/%zz%4";
    (void)state;
    assert_int_equal(http_unescape(a), 7);
    assert_string_equal(a, "/../x/y");
    assert_int_equal(http_unescape(b), 15);
    assert_int_equal(b[11], 1);
    assert_false(http_path_ok(b));
    http_unescape(c);
    assert_string_equal(c, "/%zz%4");
}

static void
test_http_range_parse__single_ranges(void **state)
{
    uint64_t a = 0, b = 0;
    (void)state;
    assert_int_equal(http_range_parse(NULL, 100, &a, &b), DFT_HTTP_RANGE_NONE);
    assert_int_equal(http_range_parse("bytes=0-9", 100, &a, &b), DFT_HTTP_RANGE_OK);
    assert_true(a == 0 && b == 9);
    assert_int_equal(http_range_parse("bytes=90-", 100, &a, &b), DFT_HTTP_RANGE_OK);
    assert_true(a == 90 && b == 99);
    assert_int_equal(http_range_parse("bytes=-10", 100, &a, &b), DFT_HTTP_RANGE_OK);
    assert_true(a == 90 && b == 99);
    assert_int_equal(http_range_parse("bytes=-1000", 100, &a, &b), DFT_HTTP_RANGE_OK);
    assert_true(a == 0 && b == 99);
    assert_int_equal(http_range_parse("bytes=50-1000", 100, &a, &b), DFT_HTTP_RANGE_OK);
    assert_true(a == 50 && b == 99);
    assert_int_equal(http_range_parse("bytes=100-", 100, &a, &b), DFT_HTTP_RANGE_UNSATISFIABLE);
    assert_int_equal(http_range_parse("bytes=-0", 100, &a, &b), DFT_HTTP_RANGE_UNSATISFIABLE);
    assert_int_equal(http_range_parse("bytes=0-1,5-6", 100, &a, &b), DFT_HTTP_RANGE_BAD);
    assert_int_equal(http_range_parse("bytes=9-1", 100, &a, &b), DFT_HTTP_RANGE_BAD);
    assert_int_equal(http_range_parse("items=0-1", 100, &a, &b), DFT_HTTP_RANGE_BAD);
    assert_int_equal(http_range_parse("bytes=99999999999999999999-", 100, &a, &b),
                     DFT_HTTP_RANGE_BAD);
    assert_int_equal(http_range_parse("bytes= 0-1", 100, &a, &b), DFT_HTTP_RANGE_BAD);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_host_ok__only_loopback_names_with_our_port),
        cmocka_unit_test(test_http_origin_ok__same_origin_only),
        cmocka_unit_test(test_http_fetch_site_ok__same_origin_or_none),
        cmocka_unit_test(test_http_cookie_find__exact_name_once),
        cmocka_unit_test(test_http_token_eq__length_and_content),
        cmocka_unit_test(test_http_path_ok__refuses_traversal),
        cmocka_unit_test(test_http_unescape__decodes_and_defuses_nul),
        cmocka_unit_test(test_http_range_parse__single_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
