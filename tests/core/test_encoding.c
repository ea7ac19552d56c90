/* test_encoding.c - base64, hex and UTF-8 validation (known answers and must-not cases). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "defter/core.h"

static void
test_b64__rfc4648_vectors(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char enc[16];
        dft_b64_encode(enc, (const unsigned char *)in[i], strlen(in[i]));
        assert_string_equal(enc, out[i]);
        unsigned char dec[16];
        size_t n = 0;
        assert_int_equal(dft_b64_decode(dec, sizeof dec, &n, out[i], strlen(out[i])), DFT_OK);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(dec, in[i], n);
    }
}

static void
test_b64__rejects_sloppy_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg", "Zg=", "Z===", "Zh==", "Zm9v\n", "Zm 9", "Zg==Zg==", "Zm8=Zm8="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char dec[16];
        size_t n = 0;
        assert_int_not_equal(dft_b64_decode(dec, sizeof dec, &n, bad[i], strlen(bad[i])), DFT_OK);
    }
}

static void
test_hex__round_trip(void **state)
{
    (void)state;
    unsigned char in[4] = {0x00, 0xab, 0x7f, 0xff};
    char hex[9];
    dft_hex_encode(hex, in, 4);
    assert_string_equal(hex, "00ab7fff");
    unsigned char out[4];
    assert_int_equal(dft_hex_decode(out, 4, hex), DFT_OK);
    assert_memory_equal(in, out, 4);
    assert_int_not_equal(dft_hex_decode(out, 4, "00ab7fg0"), DFT_OK);
    assert_int_not_equal(dft_hex_decode(out, 4, "00ab7f"), DFT_OK);
}

static void
test_utf8__valid_and_invalid(void **state)
{
    (void)state;
    assert_true(dft_utf8_valid("Ahtem Çiygöz", strlen("Ahtem Çiygöz")));
    assert_true(dft_utf8_valid("Ахтем Чийгоз", strlen("Ахтем Чийгоз")));
    assert_true(dft_utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(dft_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(dft_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(dft_utf8_valid("\xd0", 1));             /* truncated */
    assert_false(dft_utf8_valid("a\0b", 3));             /* NUL */
    assert_false(dft_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

static void
test_be__known_answers(void **state)
{
    (void)state;
    unsigned char b[8];
    dft_be_put(b, 0x0102030405060708ULL, 8);
    static const unsigned char want[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(b, want, 8);
    assert_true(dft_be_get(b, 8) == 0x0102030405060708ULL);
    dft_be_put(b, 0xdeadbeef, 4);
    assert_int_equal(b[0], 0xde);
    assert_int_equal(b[3], 0xef);
    assert_true(dft_be_get(b, 4) == 0xdeadbeef);
    dft_be_put(b, 0x1234, 2);
    assert_true(dft_be_get(b, 2) == 0x1234);
}

static void
test_error__first_message_wins(void **state)
{
    (void)state;
    struct dft_error err = {0};
    assert_int_equal(dft_fail(&err, DFT_ERR_IO, "deep %s", "cause"), DFT_ERR_IO);
    assert_int_equal(dft_fail(&err, DFT_ERR_INPUT, "shallow"), DFT_ERR_INPUT);
    assert_int_equal(err.code, DFT_ERR_IO);
    assert_string_equal(err.msg, "deep cause");
}

static void
test_buf__cap_is_enforced(void **state)
{
    (void)state;
    struct dft_buf b;
    dft_buf_init(&b, 8, 0);
    assert_int_equal(dft_buf_adds(&b, "12345678"), DFT_OK);
    assert_int_equal(dft_buf_adds(&b, "9"), DFT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 8);
    assert_string_equal((char *)b.data, "12345678");
    dft_buf_release(&b);
    dft_buf_init(&b, 1 << 20, 1);
    assert_int_equal(dft_buf_addf(&b, "%d-%s", 42, "x"), DFT_OK);
    assert_string_equal((char *)b.data, "42-x");
    dft_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64__rfc4648_vectors),
        cmocka_unit_test(test_b64__rejects_sloppy_input),
        cmocka_unit_test(test_hex__round_trip),
        cmocka_unit_test(test_utf8__valid_and_invalid),
        cmocka_unit_test(test_be__known_answers),
        cmocka_unit_test(test_error__first_message_wins),
        cmocka_unit_test(test_buf__cap_is_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
