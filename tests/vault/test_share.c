/*
 * test_share.c - recovery shares as words: round trip, first-four-letter matching, a typo
 * caught and named at every position, wrong word counts, and the share checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "vault/share.h"

static void
make_share(unsigned char s[DFT_SHARE_BYTES])
{
    randombytes_buf(s, DFT_SHARE_BYTES);
    s[SHARE_OFF_X] = 2;
    s[SHARE_OFF_M] = 3;
    s[SHARE_OFF_N] = 5;
    s[SHARE_OFF_VER] = 1;
    share_seal(s);
}

static void
test_share__word_list_is_bip39(void **state)
{
    (void)state;
    assert_string_equal(words_bip39[0], "abandon");
    assert_string_equal(words_bip39[2047], "zoo");
    /* the first four letters name one word */
    for (int i = 0; i < 2048; i++) {
        for (int j = i + 1; j < 2048 && strncmp(words_bip39[i], words_bip39[j], 4) == 0; j++) {
            assert_true(strlen(words_bip39[i]) < 4 || strlen(words_bip39[j]) < 4);
        }
    }
}

static void
test_share__round_trip(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        unsigned char s[DFT_SHARE_BYTES], back[DFT_SHARE_BYTES];
        char words[SHARE_WORDS * 10];
        make_share(s);
        share_to_words(s, words, sizeof words);
        struct dft_error err = {0};
        assert_int_equal(share_from_words(back, words, "share 1", &err), DFT_OK);
        assert_memory_equal(s, back, DFT_SHARE_BYTES);
        assert_int_equal(dft_share_check(back, &err), DFT_OK);
    }
}

static void
test_share__prefix_case_and_spacing(void **state)
{
    (void)state;
    unsigned char s[DFT_SHARE_BYTES], back[DFT_SHARE_BYTES];
    char words[SHARE_WORDS * 10], typed[SHARE_WORDS * 12];
    make_share(s);
    share_to_words(s, words, sizeof words);
    /* upper case, newlines, and each word of more than four letters cut to four plus a typo */
    size_t n = 0;
    const char *p = words;
    while (*p != '\0') {
        size_t len = strcspn(p, " ");
        if (len > 4) {
            n += (size_t)snprintf(typed + n, sizeof typed - n, "%c%.3sQ\n", p[0] - 32, p + 1);
        } else {
            n += (size_t)snprintf(typed + n, sizeof typed - n, "%.*s\t", (int)len, p);
        }
        p += len;
        p += *p == ' ';
    }
    struct dft_error err = {0};
    assert_int_equal(share_from_words(back, typed, "share 1", &err), DFT_OK);
    assert_memory_equal(s, back, DFT_SHARE_BYTES);
}

/* Another word at any position is caught, and that position is named. */
static void
test_share__typo_is_named(void **state)
{
    (void)state;
    unsigned char s[DFT_SHARE_BYTES], back[DFT_SHARE_BYTES];
    char words[SHARE_WORDS * 10], bad[SHARE_WORDS * 10], want[64];
    make_share(s);
    share_to_words(s, words, sizeof words);
    for (int pos = 0; pos < SHARE_WORDS; pos++) {
        /* rebuild the text with word pos replaced */
        size_t n = 0;
        const char *p = words;
        for (int i = 0; i < SHARE_WORDS; i++) {
            size_t len = strcspn(p, " ");
            const char *w = p;
            int wl = (int)len;
            if (i == pos) {
                w = strncmp(p, "zoo", len) == 0 && len == 3 ? "abandon" : "zoo";
                wl = (int)strlen(w);
            }
            n += (size_t)snprintf(bad + n, sizeof bad - n, "%s%.*s", i ? " " : "", wl, w);
            p += len;
            p += *p == ' ';
        }
        struct dft_error err = {0};
        assert_int_equal(share_from_words(back, bad, "share 4", &err), DFT_ERR_INPUT);
        snprintf(want, sizeof want, "share 4, word %d '", pos + 1);
        if (strncmp(err.msg, want, strlen(want)) != 0) {
            /* two candidate repairs: still a checksum message naming the share */
            assert_non_null(strstr(err.msg, "share 4: checksum mismatch"));
        }
    }
    /* a word that is not in the list */
    snprintf(bad, sizeof bad, "qqqq %s", strchr(words, ' ') + 1);
    struct dft_error err = {0};
    assert_int_equal(share_from_words(back, bad, "share 2", &err), DFT_ERR_INPUT);
    assert_string_equal(err.msg, "share 2, word 1 'qqqq' is not in the word list");
}

static void
test_share__counts_and_fields(void **state)
{
    (void)state;
    unsigned char s[DFT_SHARE_BYTES], back[DFT_SHARE_BYTES];
    char words[SHARE_WORDS * 10], more[SHARE_WORDS * 10 + 16];
    struct dft_error err = {0};
    make_share(s);
    share_to_words(s, words, sizeof words);
    *strrchr(words, ' ') = '\0';
    assert_int_equal(share_from_words(back, words, "share 1", &err), DFT_ERR_INPUT);
    assert_string_equal(err.msg, "share 1 has 31 words, not 32");
    share_to_words(s, words, sizeof words);
    snprintf(more, sizeof more, "%s zoo", words);
    memset(&err, 0, sizeof err); /* the first message set wins */
    assert_int_equal(share_from_words(back, more, "share 1", &err), DFT_ERR_INPUT);
    assert_string_equal(err.msg, "share 1 has more than 32 words");
    assert_int_equal(share_from_words(back, "", "share 1", &err), DFT_ERR_INPUT);
    /* fields out of range behind a good checksum */
    static const struct {
        int off;
        unsigned char v;
    } bad[] = {{SHARE_OFF_X, 0}, {SHARE_OFF_X, 6},  {SHARE_OFF_M, 1},
               {SHARE_OFF_M, 6}, {SHARE_OFF_N, 17}, {SHARE_OFF_VER, 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_share(s);
        s[bad[i].off] = bad[i].v;
        share_seal(s);
        assert_int_equal(dft_share_check(s, &err), DFT_ERR_INPUT);
        share_to_words(s, words, sizeof words);
        assert_int_equal(share_from_words(back, words, "share 1", &err), DFT_ERR_INPUT);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share__word_list_is_bip39),
        cmocka_unit_test(test_share__round_trip),
        cmocka_unit_test(test_share__prefix_case_and_spacing),
        cmocka_unit_test(test_share__typo_is_named),
        cmocka_unit_test(test_share__counts_and_fields),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
