/* test_fold.c - folding rules of the search keys: letters, romanisation pairs, must-nots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "search/search.h"
#include "search/internal.h"

static struct dft_search_token
tok(const char *s)
{
    struct dft_search_token t[4];
    memset(t, 0, sizeof t);
    int n = search_tokenize(s, strlen(s), t, 4);
    assert_int_equal(n, 1);
    return t[0];
}

/* pairs that must share a level: 0 exact, 1 folded, 2 skeleton, 3 stem, 4 key */
static void
same(const char *a, const char *b, int level)
{
    struct dft_search_token x = tok(a), y = tok(b);
    const char *fx[] = {x.exact, x.folded, x.skel, x.stem, x.key};
    const char *fy[] = {y.exact, y.folded, y.skel, y.stem, y.key};
    if (strcmp(fx[level], fy[level]) != 0) {
        print_error("'%s' and '%s' differ at level %d: '%s' vs '%s'\n", a, b, level, fx[level],
                    fy[level]);
        fail();
    }
}

static void
differ(const char *a, const char *b)
{
    struct dft_search_token x = tok(a), y = tok(b);
    if (strcmp(x.key, y.key) == 0) {
        print_error("'%s' and '%s' share key '%s'\n", a, b, x.key);
        fail();
    }
}

static void
test_fold__case_and_normalisation(void **state)
{
    (void)state;
    same("ASANOV", "asanov", 0);
    same("Асанов", "АСАНОВ", 0);
    same("Ｒｕｓｔｅｍ", "Rustem", 0); /* NFKC: full-width letters */
    same("Reşat",
         "Res\xcc\xa7"
         "at",
         1); /* composed and decomposed cedilla, both folded */
}

static void
test_fold__ukrainian_apostrophes(void **state)
{
    (void)state;
    same("Темер'янов", "Темер’янов", 0);
    same("Темер'янов", "Темерʼянов", 0);
    same("Temer`yanov", "Temeryanov", 0);
    same("Темерʼянов", "Temeryanov", 2);
    same("Bal'bek", "Balbek", 0);
}

static void
test_fold__soft_and_hard_signs(void **state)
{
    (void)state;
    same("Афанасьев", "Afanasev", 2);
    same("Афанасьєв", "Afanasyev", 2);
    same("Бальбек", "Balbek", 1);
    same("Подъячев", "Podyachev", 1);
}

static void
test_fold__yo_ghe_i_yi_ye(void **state)
{
    (void)state;
    same("Алёна", "Алена", 1);        /* ё/е */
    same("Ґонта", "Гонта", 1);        /* ґ/г */
    same("Гонта", "Honta", 2);        /* Ukrainian г = h */
    same("Ірина", "Irina", 1);        /* і */
    same("Їжак", "Yizhak", 1);        /* ї */
    same("Єсипенко", "Yesypenko", 2); /* є, и = y */
    same("Есипенко", "Yesipenko", 2); /* initial е = ye (BGN) */
    same("Барієв", "Bariiev", 2);     /* passport 2010 ie */
    same("Бариев", "Bariyev", 2);     /* BGN yev */
}

static void
test_fold__crimean_tatar_and_turkish_latin(void **state)
{
    (void)state;
    same("Çiygöz", "Chiygoz", 1);         /* ç ö */
    same("Şeyhaliyev", "Sheikhaliev", 2); /* ş, h = kh, y/i */
    same("Dağ", "Dagh", 1);               /* ğ */
    same("Qırım", "Kyrym", 2);            /* q ı */
    same("Añ", "An", 1);                  /* ñ */
    same("Gündüz", "Gyunduz", 2);         /* ü */
    same("İlyasov", "Ilyasov", 1);        /* Turkish dotted capital I */
    same("Bilâl", "Bilyal", 2);           /* â */
    same("Cepparov", "Dzhepparov", 4);    /* Crimean Tatar c = дж */
    same("Джеппаров", "Jepparov", 2);
}

static void
test_fold__romanisation_systems(void **state)
{
    (void)state;
    /* Russian Геннадий / Ukrainian Геннадій: BGN, ICAO, passport 2010, GOST, press */
    const char *g[] = {"Геннадий", "Геннадій", "Gennadiy", "Gennadii",
                       "Hennadii", "Gennadij", "Gennady"};
    for (size_t i = 1; i < sizeof g / sizeof g[0]; i++) {
        same(g[0], g[i], 2);
    }
    same("Akhtem", "Ahtem", 2);     /* kh/h */
    same("Tsygipa", "Цыгипа", 2);   /* ts */
    same("Tsygipa", "Cygipa", 4);   /* GOST c for ц */
    same("Dmitriy", "Dmitrij", 2);  /* y/j endings */
    same("Sergey", "Serhii", 2);    /* -ey / -ii */
    same("Natalya", "Nataliia", 2); /* ya / iia */
    same("Yunusov", "Iunusov", 2);  /* yu / iu */
    same("Shtyblikov", "Штибликов", 2);
}

static void
test_fold__gendered_surnames(void **state)
{
    (void)state;
    same("Ametova", "Ametov", 3);
    same("Salieva", "Saliev", 3);
    same("Ilyina", "Ilyin", 3);
    same("Poklonskaya", "Poklonska", 2);
    same("Poklonskaya", "Poklonskiy", 3);
    same("Поклонська", "Poklonskyi", 3);
    same("Ковальська", "Kovalsky", 3);
    /* short first names keep their ending */
    differ("Ali", "Alie");
}

static void
test_fold__must_not_merge(void **state)
{
    (void)state;
    differ("Seitkhalilov", "Sheikhaliev");
    differ("Refat", "Reshat");
    differ("Ametov", "Asanov");
    differ("Umerov", "Memetov");
}

static void
test_tokenize__patronymic_alias_hyphen(void **state)
{
    (void)state;
    struct dft_search_token t[8];
    const char *s = "Ахтем Зейтуллаевич Чийгоз";
    assert_int_equal(search_tokenize(s, strlen(s), t, 8), 3);
    assert_int_equal(t[0].flags, 0);
    assert_int_equal(t[1].flags, DFT_SEARCH_TOK_PATRONYMIC);
    const char *p = "Natalya Vladimirovna Poklonskaya";
    assert_int_equal(search_tokenize(p, strlen(p), t, 8), 3);
    assert_int_equal(t[1].flags, DFT_SEARCH_TOK_PATRONYMIC);
    const char *a = "Marlen (Süleyman) Asanov";
    assert_int_equal(search_tokenize(a, strlen(a), t, 8), 3);
    assert_int_equal(t[1].flags, DFT_SEARCH_TOK_ALIAS);
    assert_int_equal(t[2].flags, 0);
    const char *h = "Abdul-Hakim Asanov";
    assert_int_equal(search_tokenize(h, strlen(h), t, 8), 3);
    assert_string_equal(t[1].folded, "hakim");
    /* two words: an -ovich word alone is a surname, not a patronymic */
    const char *two = "Petro Ivanovich";
    assert_int_equal(search_tokenize(two, strlen(two), t, 8), 2);
    assert_int_equal(t[1].flags, 0);
}

static void
test_tokenize__bad_and_odd_input(void **state)
{
    (void)state;
    struct dft_search_token t[4];
    assert_int_equal(search_tokenize("\xff\xfe", 2, t, 4), -1);
    assert_int_equal(search_tokenize("ab\0cd", 5, t, 4), -1);
    assert_int_equal(search_tokenize("", 0, t, 4), 0);
    assert_int_equal(search_tokenize(" ,.;-- ", 7, t, 4), 0);
    assert_int_equal(search_tokenize("a b c d e f", 11, t, 4), 4);
    char longw[600];
    memset(longw, 'z', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    assert_int_equal(search_tokenize(longw, strlen(longw), t, 4), 1);
    assert_true(strlen(t[0].folded) < DFT_SEARCH_TOKEN_MAX);
}

/* search_tokenize (ASCII fast path) and search_tokenize_unicode give the same tokens for s. */
static void
tokenize_paths_agree(const char *s, size_t n, int max)
{
    struct dft_search_token a[16];
    struct dft_search_token b[16];
    memset(a, 0, sizeof a);
    memset(b, 0x55, sizeof b);
    int na = search_tokenize(s, n, a, max);
    int nb = search_tokenize_unicode(s, n, b, max);
    if (na != nb) {
        print_error("'%.*s': %d tokens on the fast path, %d on the slow one\n", (int)n, s, na, nb);
        fail();
    }
    for (int i = 0; i < na; i++) {
        const char *fa[] = {a[i].exact, a[i].folded, a[i].skel, a[i].stem, a[i].key};
        const char *fb[] = {b[i].exact, b[i].folded, b[i].skel, b[i].stem, b[i].key};
        for (int k = 0; k < 5; k++) {
            if (strcmp(fa[k], fb[k]) != 0) {
                print_error("'%.*s' token %d field %d: '%s' vs '%s'\n", (int)n, s, i, k, fa[k],
                            fb[k]);
                fail();
            }
        }
        assert_int_equal(a[i].flags, b[i].flags);
    }
}

static void
test_tokenize__ascii_fast_path_matches_utf8proc(void **state)
{
    (void)state;
    char buf[1100];
    /* every ASCII character alone, inside a word, between words, and inside brackets */
    for (int c = 0; c < 128; c++) {
        char ch = (char)c;
        tokenize_paths_agree(&ch, 1, 4);
        int n = snprintf(buf, sizeof buf, "ab%ccd Kurt%coglu (x%cY) [Z%c]", c ? c : '.',
                         c ? c : '.', c ? c : '.', c ? c : '.');
        buf[2] = ch; /* NUL too: both must refuse it */
        tokenize_paths_agree(buf, (size_t)n, 16);
    }
    /* random ASCII strings, letter-heavy, with separators, brackets, apostrophes and controls */
    static const char pool[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                               "aeiouAEIOU      '`-.,()[]{}_^~\t\n\x01\x7f\"!?/\\@#$%&*+=<>|;:";
    unsigned long x = 0x9e3779b97f4a7c15UL;
    for (int r = 0; r < 20000; r++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        size_t n = 1 + (size_t)((x >> 33) % (r % 100 == 0 ? 1090 : 60));
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            buf[i] = pool[(x >> 33) % (sizeof pool - 1)];
        }
        tokenize_paths_agree(buf, n, 1 + (int)((x >> 20) % 16));
    }
    /* past the fast path's length limit: the same answer still */
    memset(buf, 'q', 1030);
    buf[500] = ' ';
    tokenize_paths_agree(buf, 1030, 4);
}

static void
test_distance__weights(void **state)
{
    (void)state;
    struct dft_search_token a = tok("resat"), b = tok("Reşat"), c = tok("Refat");
    assert_true(search_distance(a.skel, b.skel, 2.0) < 0.5);
    assert_true(search_distance(c.skel, b.skel, 2.0) >= 1.0);
    assert_true(search_distance("abcdefgh", "zzzzzzzz", 1.0) > 1.0);
    assert_true(search_distance("ab", "ba", 2.0) <= 1.0); /* transposition */
}

static void
test_similarity__same_and_other_people(void **state)
{
    (void)state;
    assert_true(search_name_similarity("Akhtem Chiygoz", "Чийгоз Ахтем Зейтуллаевич", NULL, 0) >
                0.85);
    assert_true(search_name_similarity("Mumine Salieva", "Мумине Салиева", NULL, 0) > 0.85);
    /* relatives sharing the surname stay well below */
    assert_true(search_name_similarity("Akhtem Chiygoz", "Rustem Chiygoz", NULL, 0) < 0.7);
    assert_true(search_name_similarity("Reshat Ametov", "Zarina Ametova", NULL, 0) < 0.6);
    /* a typo in the full name beats the right surname alone */
    assert_true(search_name_similarity("Reshat Ameetov", "Reshat Ametov", NULL, 0) >
                search_name_similarity("Reshat Ameetov", "Refat Ametov", NULL, 0));
    char why[128];
    assert_true(search_name_similarity("ahtem ciygoz", "Ahtem Çiygöz", why, sizeof why) > 0.8);
    assert_non_null(strstr(why, "ahtem=exact"));
}

/* The table for plain Cyrillic words folds exactly as ICU does: every pair of letters. */
static void
test_fold__cyrillic_table_matches_icu(void **state)
{
    (void)state;
    static const char *const letters[] = {
        "а", "б", "в", "г", "д", "е", "ж", "з", "и", "й", "к", "л", "м", "н", "о", "п", "р",
        "с", "т", "у", "ф", "х", "ц", "ч", "ш", "щ", "ъ", "ы", "ь", "э", "ю", "я", "ё", "є",
        "і", "ї", "ў", "ґ", "ә", "ө", "ү", "ң", "һ", "ђ", "Ж", "ç", "a", "Z", "7", "-", "\xd0",
    };
    size_t n = sizeof letters / sizeof letters[0];
    char word[16], fast[DFT_SEARCH_TOKEN_MAX], icu[DFT_SEARCH_TOKEN_MAX];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            size_t a = strlen(letters[i]), b = strlen(letters[j]);
            memcpy(word, letters[i], a);
            memcpy(word + a, letters[j], b);
            word[a + b] = '\0';
            search_fold_word(word, a + b, fast);
            search_fold_word_icu(word, a + b, icu);
            if (strcmp(fast, icu) != 0) {
                print_error("'%s': table '%s', icu '%s'\n", word, fast, icu);
                fail();
            }
        }
    }
    /* around the table's limit of 24 letters, and output cut at 63 bytes */
    static const char *const longs[] = {"щ", "къ", "a", "ы"};
    for (size_t k = 0; k < sizeof longs / sizeof longs[0]; k++) {
        for (size_t reps = 8; reps <= 24; reps++) {
            char big[512];
            size_t len = 0;
            size_t l = strlen(longs[k]);
            size_t cps = l == 1 ? reps : reps * (l / 2);
            if (cps + 1 > 24) {
                continue; /* past the table's limit both sides are ICU */
            }
            for (size_t r = 0; r < reps && len + l < sizeof big; r++) {
                memcpy(big + len, longs[k], l);
                len += l;
            }
            memcpy(big + len, "ж", 2);
            len += 2;
            search_fold_word(big, len, fast);
            search_fold_word_icu(big, len, icu);
            assert_string_equal(fast, icu);
        }
    }
    static const char *const names[] = {"Джелял",   "Къурбединов", "Чийгоз", "Асанова",
                                        "Щербаков", "Гъафаров",    "Ільїн",  "Єрмолаєва"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        struct dft_search_token t[2];
        assert_int_equal(search_tokenize(names[k], strlen(names[k]), t, 2), 1);
        search_fold_word_icu(t[0].exact, strlen(t[0].exact), icu);
        assert_string_equal(t[0].folded, icu);
    }
}

/* Words longer than a token are cut, and cut the same way every time (valgrind-clean). */
static void
test_fold__long_words_are_cut_deterministically(void **state)
{
    (void)state;
    static const char *const units[] = {"щ", "къ", "ж", "я", "ğ", "Ї"};
    static const int counts[] = {31, 32, 33, 63, 64, 65, 100, 200};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            char w[1024] = "";
            size_t n = 0;
            for (int i = 0; i < counts[c]; i++) {
                size_t l = strlen(units[u]);
                memcpy(w + n, units[u], l);
                n += l;
            }
            w[n] = '\0';
            char a[DFT_SEARCH_TOKEN_MAX], b[DFT_SEARCH_TOKEN_MAX];
            search_fold_word_icu(w, n, a);
            search_fold_word_icu(w, n, b);
            assert_string_equal(a, b);
            assert_true(strlen(a) > 0);
            assert_true(strlen(a) < DFT_SEARCH_TOKEN_MAX);
        }
    }
}

/* Ukrainian and Russian forms of one given name meet; different names and surnames do not. */
static void
test_cognates__ukrainian_and_russian_given_names(void **state)
{
    (void)state;
    static const char *const same[][2] = {
        {"Mykola Polozov", "Nikolai Polozov"},
        {"Микола Полозов", "Николай Полозов"},
        {"Oleksandr Kolchenko", "Aleksandr Kolchenko"},
        {"Hryhorii Skovoroda", "Grigorii Skovoroda"},
        {"Kateryna Ivanova", "Yekaterina Ivanova"},
    };
    static const char *const other[][2] = {
        {"Mykola Polozov", "Mykhailo Polozov"},
        {"Mykola Polozov", "Nikolai Petrov"},
        {"Olha Ivanova", "Olena Ivanova"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        double s = search_name_similarity(same[i][0], same[i][1], NULL, 0);
        if (s < 0.85) {
            fail_msg("%s / %s scored %.3f", same[i][0], same[i][1], s);
        }
    }
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        double s = search_name_similarity(other[i][0], other[i][1], NULL, 0);
        if (s >= 0.6) {
            fail_msg("%s / %s scored %.3f", other[i][0], other[i][1], s);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold__case_and_normalisation),
        cmocka_unit_test(test_fold__ukrainian_apostrophes),
        cmocka_unit_test(test_fold__soft_and_hard_signs),
        cmocka_unit_test(test_fold__yo_ghe_i_yi_ye),
        cmocka_unit_test(test_fold__crimean_tatar_and_turkish_latin),
        cmocka_unit_test(test_fold__romanisation_systems),
        cmocka_unit_test(test_fold__gendered_surnames),
        cmocka_unit_test(test_fold__must_not_merge),
        cmocka_unit_test(test_tokenize__patronymic_alias_hyphen),
        cmocka_unit_test(test_tokenize__bad_and_odd_input),
        cmocka_unit_test(test_tokenize__ascii_fast_path_matches_utf8proc),
        cmocka_unit_test(test_distance__weights),
        cmocka_unit_test(test_similarity__same_and_other_people),
        cmocka_unit_test(test_fold__cyrillic_table_matches_icu),
        cmocka_unit_test(test_fold__long_words_are_cut_deterministically),
        cmocka_unit_test(test_cognates__ukrainian_and_russian_given_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
