/*
 * test_api_coercion.c - the form parser of the Safety page's API (ui_form_parse in
 * src/server/api_coercion.c): what it decodes, and every malformed body it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/api_coercion.h"

/* Parse a copy of s (NUL after it, as the request buffer has). */
static int
parse(const char *s, struct ui_form_field *f, char **keep)
{
    size_t n = strlen(s);
    char *b = malloc(n + 1);
    memcpy(b, s, n + 1);
    *keep = b;
    return ui_form_parse(b, n, f, UI_FORM_FIELDS_MAX);
}

static void
test_ui_form_parse__decodes_fields(void **state)
{
    struct ui_form_field f[UI_FORM_FIELDS_MAX];
    char *b = NULL;
    (void)state;
    assert_int_equal(parse("pass=a+b%26c%3Dd&m=2&share=&flag", f, &b), 4);
    assert_string_equal(f[0].name, "pass");
    assert_string_equal(f[0].value, "a b&c=d");
    assert_int_equal(f[0].len, 7);
    assert_string_equal(f[1].name, "m");
    assert_string_equal(f[1].value, "2");
    assert_string_equal(f[2].name, "share");
    assert_int_equal(f[2].len, 0);
    assert_string_equal(f[3].name, "flag");
    assert_string_equal(f[3].value, "");
    free(b);
    /* UTF-8 and newlines in a passphrase */
    assert_int_equal(parse("pass=%D0%BF%0Ax", f, &b), 1);
    assert_int_equal(f[0].len, 4);
    assert_memory_equal(f[0].value, "\xd0\xbf\nx", 4);
    free(b);
    char e[1] = "";
    assert_int_equal(ui_form_parse(e, 0, f, UI_FORM_FIELDS_MAX), 0);
}

static void
test_ui_form_parse__refuses_malformed(void **state)
{
    static const char *const bad[] = {
        "=x",    "&",      "a=1&",   "&a=1",  "a=1&&b=2", "a=%",    "a=%4",
        "a=%zz", "a=%00",  "a%00=1", "%20=1", "a b=1",    "a%0A=1", "name_longer_than_16=1",
        "a=%4g", "a=1&=2",
    };
    struct ui_form_field f[UI_FORM_FIELDS_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *b = NULL;
        int n = parse(bad[i], f, &b);
        if (n != -1) {
            fail_msg("'%s' parsed into %d fields", bad[i], n);
        }
        free(b);
    }
    /* a NUL byte inside the body */
    char nul[] = "a=1\0b=2";
    assert_int_equal(ui_form_parse(nul, sizeof nul - 1, f, UI_FORM_FIELDS_MAX), -1);
    /* more fields than asked for */
    char *b = NULL;
    assert_int_equal(parse("a=1&b=2&c=3", f, &b), 3);
    free(b);
    char many[] = "a=1&b=2&c=3";
    assert_int_equal(ui_form_parse(many, strlen(many), f, 2), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ui_form_parse__decodes_fields),
        cmocka_unit_test(test_ui_form_parse__refuses_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
