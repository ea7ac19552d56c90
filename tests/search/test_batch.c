/*
 * test_batch.c - dft_search_writer_put_many against single puts: the same index, row for row,
 * with duplicate ids (the later wins), re-puts of known ids, text fields, small and large
 * batches, and bad records refused before anything is written. The full-text tables hold the
 * same keys byte for byte (a batch makes the names' keys on its worker).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "search/search.h"
#include "search/devset.h"

#define N 700 /* above the size from which a worker thread folds */

static sqlite3 *
open_db(void)
{
    sqlite3 *db = NULL;
    struct dft_error err;
    dft_error_clear(&err);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(search_setup(db, &err), DFT_OK);
    return db;
}

struct recs {
    char ids[N][16];
    char names[N][256];
    json_t *fields[N];
    struct dft_search_record r[N];
};

/* N records: filler names, every 7th a case with a text field, every 50th repeating an id */
static void
make(struct recs *rs)
{
    struct fill_rng rng = {5};
    for (int i = 0; i < N; i++) {
        fill_name(&rng, rs->names[i], sizeof rs->names[i]);
        snprintf(rs->ids[i], sizeof rs->ids[i], "r%d", i % 50 == 49 ? i - 10 : i);
        int kase = i % 7 == 0;
        rs->fields[i] = kase ? json_pack("{s:s, s:s}", "title", rs->names[i], "summary",
                                         "hearing in Simferopol postponed")
                             : json_pack("{s:s, s:[s]}", "name", rs->names[i], "name_variants",
                                         "Ахтем Сеитович Тестов");
        rs->r[i] = (struct dft_search_record){rs->ids[i], kase ? "case" : "person", rs->names[i],
                                              rs->fields[i]};
    }
}

static void
unmake(struct recs *rs)
{
    for (int i = 0; i < N; i++) {
        json_decref(rs->fields[i]);
    }
}

/* every row of the index in id order with its row number, as one string */
static char *
dump(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT group_concat(rid || '|' || id || '|' || type || '|' || title ||"
                           " '|' || names || '|' || body || '|' || toks, '\n')"
                           " FROM (SELECT * FROM search_doc ORDER BY id)",
                           -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *s = (const char *)sqlite3_column_text(st, 0);
    char *copy = strdup(s != NULL ? s : "");
    sqlite3_finalize(st);
    return copy;
}

/* the full-text index itself (every key of every row, as FTS5 stores them), as one hex string */
static char *
dump_fts(sqlite3 *db, const char *table)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(id || ':' || hex(block), '\n')"
             " FROM (SELECT * FROM %s_data ORDER BY id)",
             table);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *s = (const char *)sqlite3_column_text(st, 0);
    char *copy = strdup(s != NULL ? s : "");
    sqlite3_finalize(st);
    return copy;
}

static void
hits_equal(sqlite3 *a, sqlite3 *b, const char *q)
{
    struct dft_error err;
    json_t *ra = NULL, *rb = NULL;
    assert_int_equal(search_query(a, q, NULL, 20, &ra, &err), DFT_OK);
    assert_int_equal(search_query(b, q, NULL, 20, &rb, &err), DFT_OK);
    json_t *ha = json_object_get(ra, "hits"), *hb = json_object_get(rb, "hits");
    size_t n = json_array_size(ha);
    assert_int_equal(n, json_array_size(hb));
    assert_true(n > 0);
    /* ties are ordered by row number, which differs: compare scores, and a clear winner */
    for (size_t i = 0; i < n; i++) {
        assert_true(json_real_value(json_object_get(json_array_get(ha, i), "score")) ==
                    json_real_value(json_object_get(json_array_get(hb, i), "score")));
    }
    double s0 = json_real_value(json_object_get(json_array_get(ha, 0), "score"));
    if (n == 1 || json_real_value(json_object_get(json_array_get(ha, 1), "score")) < s0) {
        assert_string_equal(json_string_value(json_object_get(json_array_get(ha, 0), "id")),
                            json_string_value(json_object_get(json_array_get(hb, 0), "id")));
    }
    json_decref(ra);
    json_decref(rb);
}

static void
test_batch__same_index_as_single_puts(void **state)
{
    (void)state;
    static struct recs rs;
    make(&rs);
    struct dft_error err;
    dft_error_clear(&err);
    sqlite3 *one = open_db(), *many = open_db();
    struct dft_search_writer *w1 = NULL, *w2 = NULL;
    assert_int_equal(search_writer_open(one, &w1, &err), DFT_OK);
    assert_int_equal(search_writer_open(many, &w2, &err), DFT_OK);
    /* a first round, then everything again: known ids are replaced */
    for (int round = 0; round < 2; round++) {
        assert_int_equal(sqlite3_exec(one, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(many, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        int from = round == 0 ? 0 : N / 2;
        for (int i = from; i < N; i++) {
            assert_int_equal(search_writer_put(w1, rs.r[i].id, rs.r[i].type, rs.r[i].title,
                                               rs.r[i].fields, &err),
                             DFT_OK);
        }
        assert_int_equal(dft_search_writer_put_many(w2, rs.r + from, (size_t)(N - from), &err),
                         DFT_OK);
        assert_int_equal(sqlite3_exec(one, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(many, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    }
    /* a small batch goes without a thread */
    assert_int_equal(dft_search_writer_put_many(w2, rs.r, 3, &err), DFT_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(
            search_writer_put(w1, rs.r[i].id, rs.r[i].type, rs.r[i].title, rs.r[i].fields, &err),
            DFT_OK);
    }
    assert_int_equal(dft_search_writer_put_many(w2, NULL, 0, &err), DFT_OK);
    search_writer_close(w1);
    search_writer_close(w2);
    char *a = dump(one), *b = dump(many);
    assert_true(strlen(a) > 1000);
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(search_check(one, &err), DFT_OK);
    assert_int_equal(search_check(many, &err), DFT_OK);
    /* the batch's keys, made on the worker (search_prepared.make_keys), are the same keys */
    static const char *const fts[] = {"search_name", "search_text"};
    for (size_t t = 0; t < 2; t++) {
        a = dump_fts(one, fts[t]);
        b = dump_fts(many, fts[t]);
        assert_true(strlen(a) > 1000);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    for (int i = 0; i < N; i += 37) {
        hits_equal(one, many, rs.names[i]);
    }
    hits_equal(one, many, "Simferopol");
    hits_equal(one, many, "Тестов");
    sqlite3_close(one);
    sqlite3_close(many);
    unmake(&rs);
}

static void
test_batch__bad_record_changes_nothing(void **state)
{
    (void)state;
    static struct recs rs;
    make(&rs);
    struct dft_error err;
    dft_error_clear(&err);
    sqlite3 *db = open_db();
    struct dft_search_writer *w = NULL;
    assert_int_equal(search_writer_open(db, &w, &err), DFT_OK);
    rs.r[N - 1].id = NULL;
    assert_int_equal(dft_search_writer_put_many(w, rs.r, N, &err), DFT_ERR_USAGE);
    assert_non_null(strstr(err.msg, "an id"));
    rs.r[N - 1].id = rs.ids[N - 1];
    rs.r[3].type = NULL;
    assert_int_equal(dft_search_writer_put_many(w, rs.r, N, &err), DFT_ERR_USAGE);
    assert_int_equal(dft_search_writer_put_many(NULL, rs.r, N, &err), DFT_ERR_USAGE);
    assert_int_equal(dft_search_writer_put_many(w, NULL, 4, &err), DFT_ERR_USAGE);
    search_writer_close(w);
    char *d = dump(db);
    assert_string_equal(d, "");
    free(d);
    sqlite3_close(db);
    unmake(&rs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch__same_index_as_single_puts),
        cmocka_unit_test(test_batch__bad_record_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
