/*
 * test_rules.c - the correspondences of rules.c, one test per family of names that slipped
 * (Russified suffixes, Turkic "son of" forms, Turkish spellings of Crimean Tatar stems, x = ks,
 * Ukrainian / Russian given names by rule, one substituted letter in a Cyrillic surname), the
 * pairs that must stay apart, the constructed rules set ranked among filler, and indexes made
 * by the first tokenizer version. Every name here is constructed for the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "search/search.h"
#include "search/internal.h"
#include "search/devset.h"

static double
sim(const char *a, const char *b)
{
    char why[256];
    double s = search_name_similarity(a, b, why, sizeof why);
    double r = search_name_similarity(b, a, why, sizeof why);
    return s < r ? s : r; /* both directions */
}

/* a and b must meet at least at min; an unrelated surname with the same given name stays lower */
static void
meets(const char *a, const char *b, double min)
{
    double s = sim(a, b);
    if (s < min) {
        char why[256];
        search_name_similarity(a, b, why, sizeof why);
        print_error("'%s' ~ '%s' = %.3f < %.3f (%s)\n", a, b, s, min, why);
        fail();
    }
}

static void
apart(const char *a, const char *b, double max)
{
    double s = sim(a, b);
    if (s > max) {
        char why[256];
        search_name_similarity(a, b, why, sizeof why);
        print_error("'%s' ~ '%s' = %.3f > %.3f (%s)\n", a, b, s, max, why);
        fail();
    }
}

static void
test_rules__root_of_russified_and_turkic_forms(void **state)
{
    (void)state;
    static const struct {
        const char *stem, *root;
        enum search_suffix kind;
    } cases[] = {
        {"kurtov", "kurt", SEARCH_SUF_RUSSIAN},
        {"kurtev", "kurt", SEARCH_SUF_RUSSIAN},
        {"kurtovIC", "kurt", SEARCH_SUF_PATRONYMIC},
        {"kurtovna", "kurt", SEARCH_SUF_PATRONYMIC},
        {"kurtoGlu", "kurt", SEARCH_SUF_TURKIC},
        {"kurtoGlI", "kurt", SEARCH_SUF_TURKIC},
        {"kurtulI", "kurt", SEARCH_SUF_TURKIC},
        {"kurt", "kurt", SEARCH_SUF_NONE},
        {"CelebI", "Celeb", SEARCH_SUF_NONE}, /* the glide the ending swallows */
        {"alov", "alov", SEARCH_SUF_NONE},    /* a root under three letters is no root */
        {"ov", "", SEARCH_SUF_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char root[DFT_SEARCH_TOKEN_MAX];
        enum search_suffix k = search_root(cases[i].stem, root);
        if (k != cases[i].kind || strcmp(root, cases[i].root) != 0) {
            print_error("root of '%s' = '%s' (%d), want '%s' (%d)\n", cases[i].stem, root, k,
                        cases[i].root, cases[i].kind);
            fail();
        }
    }
}

static void
test_rules__russified_surnames_with_and_without_suffix(void **state)
{
    (void)state;
    /* bare Crimean Tatar / Turkish surname against -ov / -ev / -ova / -eva, both scripts */
    meets("Remzi Tohtar", "Ремзи Тохтаров", 0.80);
    meets("Remzi Tohtar", "Remzi Tokhtarov", 0.80);
    meets("Nurie Bekmambet", "Нурие Бекмамбетова", 0.80);
    meets("Lütfiye Ümeraga", "Lyutfie Umeragaeva", 0.78);
    /* the glide of a final -i swallowed by -ev */
    meets("Ayşe Çelebi", "Айше Челебиева", 0.80);
    /* a stem vowel shifted by the Russian form: a/e, ä/e */
    meets("Dilaver Settar", "Дилявер Сеттеров", 0.75);
    meets("Rustem Täyfur", "Рустем Тейфуров", 0.75);
    /* patronymic -ovich / -evich written bare with oğlu */
    meets("Ayder Fevzi oğlu Kemal", "Айдер Февзиевич Кемалов", 0.75);
    /* the unrelated surname of the same given name stays well below */
    apart("Remzi Tohtar", "Ремзи Тохтамышев", 0.60);
}

static void
test_rules__turkic_son_of_against_russian_ov(void **state)
{
    (void)state;
    meets("Nazım Demirtaşoğlu", "Назым Демирташев", 0.80);
    meets("Nazim Demirtasoglu", "Nazym Demirtashev", 0.80);
    meets("Fikret Aliyarogly", "Фикрет Алияров", 0.80);
    meets("Erlan Bekmuratuly", "Ерлан Бекмуратов", 0.80);
    meets("Cengiz Çobanoğlu", "Дженгиз Чобанов", 0.80);
}

static void
test_rules__turkish_spellings_of_crimean_tatar_stems(void **state)
{
    (void)state;
    meets("Server Qırımlı", "Server Kırımlı", 0.85); /* q = k, ı */
    meets("Server Kırımlı", "Сервер Къырымлы", 0.85);
    meets("Server Kırımlı", "Server Kyrymly", 0.85);
    meets("Cengiz Çoban", "Dzhengiz Chobanov", 0.80); /* c = dzh, ç = ch, and -ov */
    meets("Cengiz Çoban", "Джэнгиз Чобан", 0.85);
    meets("Ğaliye Çağlar", "Galiye Chaglar", 0.85); /* ğ = g(h) */
}

static void
test_rules__latin_x_is_ks(void **state)
{
    (void)state;
    meets("Maxym Shevchyshyn", "Максим Шевчишин", 0.85);
    meets("Maxim Shevchishin", "Maksym Shevchyshyn", 0.85);
    meets("Oleksandra Lexenko", "Александра Лексенко", 0.85);
}

static void
test_rules__given_names_by_rule(void **state)
{
    (void)state;
    /* the derived forms themselves */
    static const char *const forms[][2] = {
        {"volodImIr", "vladImr"}, /* pleophony olo = la, closed final syllable */
        {"vladImIr", "vladImr"},  {"olena", "alena"}, /* initial o/e before l */
        {"elena", "alena"},       {"petro", "petr"},  /* Ukrainian final -o */
        {"dmItrI", "dmItr"},                          /* -iy / -ii / -yi */
        {"fedIr", "pedr"},        {"fedor", "pedr"},  /* Ukrainian i of a closed syllable */
        {"pavel", "pavl"},        {"pavlo", "pavl"},  /* fleeting vowel */
        {"Ivan", "Ivan"},                             /* a stays */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char out[DFT_SEARCH_TOKEN_MAX];
        search_given_form(forms[i][0], out);
        if (strcmp(out, forms[i][1]) != 0) {
            print_error("given form of '%s' = '%s', want '%s'\n", forms[i][0], out, forms[i][1]);
            fail();
        }
    }
    /* names outside the cognate table, in every script */
    meets("Hlib Voloshyn", "Глеб Волошин", 0.85);
    meets("Гліб Волошин", "Gleb Voloshin", 0.85);
    meets("Prokhir Dorosh", "Прохор Дорош", 0.85);
    meets("Nestir Huk", "Нестор Гук", 0.85);
    meets("Olesia Kovalyshyna", "Алеся Ковалишина", 0.85);
    meets("Ihor Zabolotnyi", "Игорь Заболотный", 0.85);
    meets("Hryhorii Zabolotnyi", "Grigoriy Zabolotny", 0.85);
    meets("Petro Zabolotnyi", "Pyotr Zabolotny", 0.85);
    meets("Svitlana Zabolotna", "Светлана Заболотная", 0.85);
    meets("Volodymyr Zabolotnyi", "Vladimir Zabolotny", 0.85);
    meets("Yakiv Zabolotnyi", "Яков Заболотный", 0.85);
    meets("Pylyp Zabolotnyi", "Filipp Zabolotny", 0.85);
    meets("Yosyp Zabolotnyi", "Иосиф Заболотный", 0.85);
    meets("Mykyta Zabolotnyi", "Никита Заболотный", 0.85);
}

static void
test_rules__one_substituted_letter_in_a_cyrillic_surname(void **state)
{
    (void)state;
    meets("Ленара Абдурефиева", "Ленара Абдурефиава", 0.80);
    meets("Ленара Абдурефиева", "Ленара Абдурешиева", 0.75);
    meets("Эрвин Кокубедилов", "Эрвин Кокубедимов", 0.75);
}

static void
test_rules__pairs_that_must_not_merge(void **state)
{
    (void)state;
    /* a short surname does not take a neighbour's consonant */
    apart("Seyran Kurt", "Seyran Kurs", 0.60);
    apart("Сейран Курт", "Сейран Курд", 0.60);
    apart("Emine Tash", "Emine Tosh", 0.85);
    /* one name has one surname: crossed roots are two people */
    apart("Süleyman Asanov", "Asan Süleymanov", 0.60);
    apart("Ivan Petrov", "Petr Ivanov", 0.60);
    /* a patronymic is not the surname of its root */
    apart("Enver Seitovich", "Enver Seitov", 0.80);
    /* distinct given names with close letters */
    apart("Refat Kurtseitov", "Reshat Kurtseitov", 0.86);
    apart("Oleg Kurtseitov", "Olga Kurtseitova", 0.80);
    /* a vowel shift away from the first syllable is a typo, not a cognate */
    char why[256];
    search_name_similarity("Умеров", "Умаров", why, sizeof why);
    assert_null(strstr(why, "cognate"));
}

/*
 * A bare surname finds the Russified form whose stem vowel moved even when the given name is
 * too common to be read whole: the index holds the root, the query its a/e shifts.
 */
static void
test_rules__shifted_root_found_among_a_common_given_name(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(search_setup(db, &err), DFT_OK);
    struct dft_search_writer *w = NULL;
    assert_int_equal(search_writer_open(db, &w, &err), DFT_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    char id[32], name[96];
    for (int i = 0; i < 2600; i++) { /* more Rustems than one word's rows read */
        snprintf(id, sizeof id, "f%d", i);
        snprintf(name, sizeof name, "Рустем Filler%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26,
                 'a' + i / 676);
        json_t *f = json_pack("{s:s}", "name", name);
        assert_int_equal(search_writer_put(w, id, "person", name, f, &err), DFT_OK);
        json_decref(f);
    }
    json_t *f = json_pack("{s:s}", "name", "Рустем Тейфуров");
    assert_int_equal(search_writer_put(w, "target", "person", "Рустем Тейфуров", f, &err), DFT_OK);
    json_decref(f);
    search_writer_close(w);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    static const char *const queries[] = {"Rustem Täyfur", "Rüstem Tayfur", "Рустем Тайфуров"};
    for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
        json_t *res = NULL;
        assert_int_equal(search_query(db, queries[q], "person", 5, &res, &err), DFT_OK);
        json_t *hits = json_object_get(res, "hits");
        assert_true(json_array_size(hits) >= 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "id")),
                            "target");
        json_decref(res);
    }
    sqlite3_close(db);
}

/* ranks of the constructed rules set among filler, as the dev set */
static void
test_rules__rules_set_with_filler(void **state)
{
    (void)state;
    static struct devset ds;
    const char *dir =
        getenv("SEARCH_RULES_DIR") ? getenv("SEARCH_RULES_DIR") : "tests/search/rules";
    assert_int_equal(dev_load(&ds, dir), 0);
    assert_true(ds.nnames > 30 && ds.nqueries > 20);
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(search_setup(db, &err), DFT_OK);
    struct dft_search_writer *w = NULL;
    assert_int_equal(search_writer_open(db, &w, &err), DFT_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    char id[32];
    for (int i = 0; i < ds.nnames; i++) {
        snprintf(id, sizeof id, "n%d", i);
        json_t *f = json_pack("{s:s}", "name", ds.names[i].text);
        assert_int_equal(search_writer_put(w, id, "person", ds.names[i].text, f, &err), DFT_OK);
        json_decref(f);
    }
    struct fill_rng r = {11};
    for (int i = 0; i < 2000; i++) {
        char name[256];
        fill_name(&r, name, sizeof name);
        snprintf(id, sizeof id, "f%d", i);
        json_t *f = json_pack("{s:s}", "name", name);
        assert_int_equal(search_writer_put(w, id, "person", name, f, &err), DFT_OK);
        json_decref(f);
    }
    search_writer_close(w);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    static char titles[DEV_MAX][10][160];
    memset(titles, 0, sizeof titles);
    for (int q = 0; q < ds.nqueries; q++) {
        json_t *res = NULL;
        assert_int_equal(search_query(db, ds.queries[q].text, "person", 10, &res, &err), DFT_OK);
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(res, "hits"), i, h)
        {
            snprintf(titles[q][i], sizeof titles[q][i], "%s",
                     json_string_value(json_object_get(h, "title")));
        }
        json_decref(res);
    }
    struct dev_metrics m;
    dev_score(&ds, titles, &m);
    print_message("rules set + 2000 filler: recall@10 %.3f R_prec %.3f distr@R %.3f "
                  "variant_recall@10 %.3f\n",
                  m.recall, m.rprec, m.distr, m.vrecall);
    assert_true(m.recall >= 0.995);
    assert_true(m.rprec >= 0.96);
    assert_true(m.vrecall >= 0.97);
    assert_true(m.distr <= 0.01);
    sqlite3_close(db);
}

/* Tables made by the first tokenizer (no root or given-name keys) keep working and checking. */
static void
test_rules__index_of_the_first_tokenizer_still_answers(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(search_setup(db, &err), DFT_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE search_name;"
                                  "CREATE VIRTUAL TABLE search_name USING fts5(names,"
                                  " content='search_doc', content_rowid='rid',"
                                  " tokenize='defter names', detail=none, columnsize=0);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    json_t *f = json_pack("{s:s}", "name", "Remzi Tohtar");
    assert_int_equal(search_put(db, "p1", "person", "Remzi Tohtar", f, &err), DFT_OK);
    json_decref(f);
    /* a row serialised with all five fields, as the first version wrote them */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO search_doc(id, type, title, names, body, toks)"
                                  " VALUES('p2', 'person', 'Dilaver Settar', 'Dilaver Settar',"
                                  " '', '0' || char(29) || 'dilaver' || char(29) || 'dilaver'"
                                  " || char(29) || 'dIlaver' || char(29) || 'dIlaver' ||"
                                  " char(31) || '0' || char(29) || 'settar' || char(29) ||"
                                  " 'settar' || char(29) || 'setar' || char(29) || 'setar');"
                                  "INSERT INTO search_name(rowid, names) SELECT rid, names FROM"
                                  " search_doc WHERE id = 'p2';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(search_check(db, &err), DFT_OK);
    json_t *res = NULL;
    assert_int_equal(search_query(db, "Remzi Tohtar", "person", 10, &res, &err), DFT_OK);
    assert_int_equal(json_array_size(json_object_get(res, "hits")), 1);
    json_decref(res);
    assert_int_equal(search_query(db, "Dilaver Settar", "person", 10, &res, &err), DFT_OK);
    json_t *hits = json_object_get(res, "hits");
    assert_int_equal(json_array_size(hits), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(hits, 0), "id")), "p2");
    assert_true(json_real_value(json_object_get(json_array_get(hits, 0), "score")) > 0.95);
    json_decref(res);
    /* the suffixed form finds the bare one through the scorer even without root keys */
    assert_int_equal(search_query(db, "Dilaver Setterov", "person", 10, &res, &err), DFT_OK);
    assert_true(json_array_size(json_object_get(res, "hits")) >= 1);
    json_decref(res);
    sqlite3_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules__root_of_russified_and_turkic_forms),
        cmocka_unit_test(test_rules__russified_surnames_with_and_without_suffix),
        cmocka_unit_test(test_rules__turkic_son_of_against_russian_ov),
        cmocka_unit_test(test_rules__turkish_spellings_of_crimean_tatar_stems),
        cmocka_unit_test(test_rules__latin_x_is_ks),
        cmocka_unit_test(test_rules__given_names_by_rule),
        cmocka_unit_test(test_rules__one_substituted_letter_in_a_cyrillic_surname),
        cmocka_unit_test(test_rules__pairs_that_must_not_merge),
        cmocka_unit_test(test_rules__shifted_root_found_among_a_common_given_name),
        cmocka_unit_test(test_rules__rules_set_with_filler),
        cmocka_unit_test(test_rules__index_of_the_first_tokenizer_still_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
