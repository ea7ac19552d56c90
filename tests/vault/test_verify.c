/*
 * test_verify.c - verify's fast paths on a vault big enough to use them: the view tables
 * compared in rowid order (with the set comparison deciding when the order differs) and the
 * search index checked as a stream folded on two threads (batches of 256 records, four in its
 * ring), and the history compared as a keyed digest of its rows. Every change made behind the
 * library's back must still be caught, wherever it sits in the order, and rows that are only in
 * another order must not be taken for a change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "vault/fixture.h"
#include "defter/vault.h"
#include "vault/vault_internal.h"
#include "store/reader.h"

static const char pass[] = "verify test passphrase";

#define N_PEOPLE                                                                                   \
    1300 /* more batches of the search stream than its ring holds, and a partial one               \
          */

struct fixture {
    char root[64];
    char tmpl[128];
    char dir[128];
    struct dft_vault *v;
    int copies;
    char ids[N_PEOPLE][DFT_ID_MAX];
};

static int
group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct dft_error err = {0};
    struct dft_vault *v = NULL;
    if (fx == NULL) {
        return -1;
    }
    snprintf(fx->root, sizeof fx->root, "/tmp/dft-verify-XXXXXX");
    if (mkdtemp(fx->root) == NULL) {
        return -1;
    }
    snprintf(fx->tmpl, sizeof fx->tmpl, "%s/template", fx->root);
    if (dft_vault_create(fx->tmpl, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK ||
        dft_vault_open(&v, fx->tmpl, pass, strlen(pass), &err) != DFT_OK) {
        fprintf(stderr, "create: %s\n", err.msg);
        return -1;
    }
    json_t *items = json_array();
    for (int i = 0; i < N_PEOPLE; i++) {
        char name[64], alt[64];
        snprintf(name, sizeof name, "Refat Chubarov %d", i);
        snprintf(alt, sizeof alt, "Рефат Чубаров %d", i);
        json_array_append_new(items, json_pack("{ss ss s[s] ss}", "type", "person", "name", name,
                                               "name_variants", alt, "summary",
                                               "detained after a search of his home"));
    }
    json_t *ids = NULL;
    if (dft_vault_add(v, items, &ids, &err) != DFT_OK) {
        fprintf(stderr, "add: %s\n", err.msg);
        return -1;
    }
    for (int i = 0; i < N_PEOPLE; i++) {
        snprintf(fx->ids[i], DFT_ID_MAX, "%s", json_string_value(json_array_get(ids, (size_t)i)));
    }
    json_decref(ids);
    json_decref(items);
    dft_vault_close(v);
    *state = fx;
    return 0;
}

static int
group_teardown(void **state)
{
    struct fixture *fx = *state;
    rm_rf(fx->root);
    free(fx);
    return 0;
}

static int
setup(void **state)
{
    struct fixture *fx = *state;
    return vault_copy_open(fx->root, fx->tmpl, &fx->copies, fx->dir, sizeof fx->dir, pass, &fx->v);
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    vault_copy_close(&fx->v, fx->dir);
    return 0;
}

static enum dft_err
verify_code(struct dft_vault *v, struct dft_error *err)
{
    json_t *report = NULL;
    dft_error_clear(err);
    enum dft_err rc = dft_vault_verify(v, 0, &report, err);
    json_decref(report);
    return rc;
}

static void
assert_verifies(struct dft_vault *v)
{
    struct dft_error err = {0};
    enum dft_err rc = verify_code(v, &err);
    if (rc != DFT_OK) {
        print_error("verify: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
}

static void
exec(struct dft_vault *v, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(vault_db(v), sql, NULL, NULL, &msg) != SQLITE_OK) {
        print_error("%s: %s\n", sql, msg);
        sqlite3_free(msg);
        fail();
    }
}

/* The id of the k-th live record in id order (the search stream's order). */
static void
id_at(struct dft_vault *v, int k, char *id)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(v),
                                        "SELECT id FROM records ORDER BY id LIMIT 1 OFFSET ?1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, k);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(id, DFT_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void
expect_integrity(struct dft_vault *v, const char *sql, const char *what)
{
    struct dft_error err = {0};
    exec(v, sql);
    enum dft_err rc = verify_code(v, &err);
    if (rc != DFT_ERR_INTEGRITY || strstr(err.msg, what) == NULL) {
        print_error("%s: %d %s\n", sql, rc, err.msg);
    }
    assert_int_equal(rc, DFT_ERR_INTEGRITY);
    assert_non_null(strstr(err.msg, what));
}

/* Every column of a stored index row changed, at the first, a middle and the last position. */
static void
test_verify__search_rows_changed_anywhere(void **state)
{
    struct fixture *fx = *state;
    char sql[512], id[DFT_ID_MAX];
    assert_verifies(fx->v);
    static const int at[] = {0, 255, 256, 511, 512, 1023, 1024, N_PEOPLE - 1};
    static const struct {
        const char *set, *undo, *what;
    } cols[] = {
        {"title = title || 'x'", "title = substr(title, 1, length(title) - 1)", "title"},
        {"type = 'note'", "type = 'person'", "type"},
        {"body = body || 'x'", "body = substr(body, 1, length(body) - 1)", "body"},
        {"toks = toks || 'x'", "toks = substr(toks, 1, length(toks) - 1)", "keys"},
    };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        id_at(fx->v, at[i], id);
        for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
            snprintf(sql, sizeof sql, "UPDATE search_doc SET %s WHERE id='%s'", cols[c].set, id);
            expect_integrity(fx->v, sql, cols[c].what);
            snprintf(sql, sizeof sql, "UPDATE search_doc SET %s WHERE id='%s'", cols[c].undo, id);
            exec(fx->v, sql);
        }
    }
    assert_verifies(fx->v);
}

/* A stored index row missing, or one too many, is caught before the full-text check. */
static void
test_verify__search_rows_missing_or_extra(void **state)
{
    struct fixture *fx = *state;
    char sql[512], id[DFT_ID_MAX];
    id_at(fx->v, 400, id);
    snprintf(sql, sizeof sql, "DELETE FROM search_doc WHERE id='%s'", id);
    expect_integrity(fx->v, sql, "search index");
    teardown(state);
    assert_int_equal(setup(state), 0);
    id_at(fx->v, N_PEOPLE - 1, id);
    snprintf(sql, sizeof sql, "DELETE FROM search_doc WHERE id='%s'", id);
    expect_integrity(fx->v, sql, "fewer entries");
    teardown(state);
    assert_int_equal(setup(state), 0);
    expect_integrity(fx->v,
                     "INSERT INTO search_doc(id, type, title, names, body, toks) VALUES"
                     "('per_zzzzzzzzzzzzzzzz', 'person', 'Ghost', '', '', '')",
                     "more entries");
    teardown(state);
    assert_int_equal(setup(state), 0);
    /* a record deleted in the view only (still indexed): the view differs */
    snprintf(sql, sizeof sql, "UPDATE records SET deleted=1 WHERE id='%s'", fx->ids[350]);
    expect_integrity(fx->v, sql, "records table differs");
}

/*
 * The view tables compared in rowid order: a change anywhere is caught; the same rows under
 * other rowids (another order) are no change; edits and deletes keep verifying.
 */
static void
test_verify__view_rows_in_another_order(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE records SET rowid = rowid + 100000 WHERE id IN ('%s', '%s')",
             fx->ids[0], fx->ids[400]);
    exec(fx->v, sql);
    assert_verifies(fx->v);
    snprintf(sql, sizeof sql, "UPDATE records SET title='Forged' WHERE id='%s'", fx->ids[0]);
    expect_integrity(fx->v, sql, "records table differs");
    snprintf(sql, sizeof sql, "UPDATE records SET title='Refat Chubarov 0' WHERE id='%s'",
             fx->ids[0]);
    exec(fx->v, sql);
    assert_verifies(fx->v);
    snprintf(sql, sizeof sql, "UPDATE records SET updated='x' WHERE id='%s'",
             fx->ids[N_PEOPLE - 1]);
    expect_integrity(fx->v, sql, "records table differs");
    teardown(state);
    assert_int_equal(setup(state), 0);
    /* edits re-index records (the stored index order changes), deletes drop them */
    json_t *f = json_pack("{ss}", "name", "Ilmi Umerov");
    assert_int_equal(dft_vault_edit(fx->v, fx->ids[10], f, &err), DFT_OK);
    json_decref(f);
    assert_int_equal(dft_vault_delete(fx->v, fx->ids[600], &err), DFT_OK);
    assert_verifies(fx->v);
    snprintf(sql, sizeof sql, "UPDATE search_doc SET names = 'Refat' WHERE id='%s'", fx->ids[10]);
    expect_integrity(fx->v, sql, "names");
}

/* The id of the record with the k-th history row in key order (a row to change). */
static void
history_record_at(struct dft_vault *v, int k, char *id)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(v),
                                        "SELECT record FROM history ORDER BY record, idx, seq"
                                        " LIMIT 1 OFFSET ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, k);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(id, DFT_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* Add n more envelopes of a few people each: verify's checks of the stored vault then run
 * between envelopes (verify_idle.c), not after the last. */
static void
add_envelopes(struct dft_vault *v, int n)
{
    struct dft_error err = {0};
    for (int e = 0; e < n; e++) {
        json_t *items = json_array();
        for (int i = 0; i < 3; i++) {
            char name[64];
            snprintf(name, sizeof name, "Server Mustafayev %d-%d", e, i);
            json_array_append_new(items, json_pack("{ss ss}", "type", "person", "name", name));
        }
        json_t *ids = NULL;
        assert_int_equal(dft_vault_add(v, items, &ids, &err), DFT_OK);
        json_decref(ids);
        json_decref(items);
    }
}

/*
 * The full-text index's own check runs while envelopes are opened; its failure is reported
 * after the stored rows are compared, as before: a row that differs is named first.
 */
static void
test_verify__fulltext_check_reported_in_order(void **state)
{
    struct fixture *fx = *state;
    char sql[512], id[DFT_ID_MAX];
    static const char broken_fts[] =
        "UPDATE search_name_data SET block = zeroblob(length(block)) WHERE id > 10";
    add_envelopes(fx->v, 4);
    assert_verifies(fx->v);
    expect_integrity(fx->v, broken_fts, "does not match the records it indexes");
    teardown(state);
    assert_int_equal(setup(state), 0);
    add_envelopes(fx->v, 4);
    exec(fx->v, broken_fts);
    id_at(fx->v, 700, id);
    snprintf(sql, sizeof sql, "UPDATE search_doc SET title = title || 'x' WHERE id='%s'", id);
    expect_integrity(fx->v, sql, "differs from the records in the title");
    teardown(state);
    assert_int_equal(setup(state), 0);
    /* the stored history is summed between envelopes too */
    add_envelopes(fx->v, 4);
    history_record_at(fx->v, 700, id);
    snprintf(sql, sizeof sql,
             "UPDATE history SET op = replace(op, 'Refat', 'Refet') WHERE record='%s'", id);
    expect_integrity(fx->v, sql, "history table differs");
    teardown(state);
    assert_int_equal(setup(state), 0);
    /* one envelope only: every check runs after the loop */
    expect_integrity(fx->v, broken_fts, "does not match the records it indexes");
}

/*
 * The history is compared as a keyed digest of its rows (verify_history.c): any change to a row,
 * a row missing or added, two rows' operations swapped (the same texts under other keys) or a
 * value of another type must fail with the message of the table comparison.
 */
static void
test_verify__history_changes_caught(void **state)
{
    struct fixture *fx = *state;
    char sql[768], a[DFT_ID_MAX], b[DFT_ID_MAX];
    static const int at[] = {0, 700, N_PEOPLE - 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        history_record_at(fx->v, at[i], a);
        snprintf(sql, sizeof sql,
                 "UPDATE history SET op = replace(op, 'Refat', 'Refet') WHERE record='%s'", a);
        expect_integrity(fx->v, sql, "history table differs");
        snprintf(sql, sizeof sql,
                 "UPDATE history SET op = replace(op, 'Refet', 'Refat') WHERE record='%s'", a);
        exec(fx->v, sql);
    }
    assert_verifies(fx->v);
    history_record_at(fx->v, 5, a);
    history_record_at(fx->v, 900, b);
    snprintf(
        sql, sizeof sql,
        "CREATE TEMP TABLE swap AS SELECT record, op FROM history WHERE record IN ('%s', '%s');"
        "UPDATE history SET op = (SELECT op FROM swap WHERE swap.record != history.record)"
        " WHERE record IN ('%s', '%s'); DROP TABLE swap",
        a, b, a, b);
    expect_integrity(fx->v, sql, "history table differs");
    teardown(state);
    assert_int_equal(setup(state), 0);
    history_record_at(fx->v, 333, a);
    snprintf(sql, sizeof sql, "DELETE FROM history WHERE record='%s'", a);
    expect_integrity(fx->v, sql, "history table differs");
    teardown(state);
    assert_int_equal(setup(state), 0);
    history_record_at(fx->v, 333, a);
    snprintf(sql, sizeof sql,
             "INSERT INTO history(record, idx, seq, op) SELECT record, idx, seq + 100000, op"
             " FROM history WHERE record='%s'",
             a);
    expect_integrity(fx->v, sql, "history table differs");
    teardown(state);
    assert_int_equal(setup(state), 0);
    history_record_at(fx->v, N_PEOPLE - 1, a);
    snprintf(sql, sizeof sql, "UPDATE history SET op = CAST(op AS BLOB) WHERE record='%s'", a);
    expect_integrity(fx->v, sql, "history table differs");
}

/* Links (two records per operation), edits and deletes give history rows that still verify. */
static void
test_verify__history_of_every_kind_verifies(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char link[DFT_ID_MAX];
    assert_int_equal(dft_vault_link(fx->v, fx->ids[3], fx->ids[1200], "relative", link, &err),
                     DFT_OK);
    json_t *f = json_pack("{ss}", "summary", "released");
    assert_int_equal(dft_vault_edit(fx->v, fx->ids[3], f, &err), DFT_OK);
    json_decref(f);
    assert_int_equal(dft_vault_delete(fx->v, fx->ids[1200], &err), DFT_OK);
    assert_verifies(fx->v);
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE history SET record='%s' WHERE record='%s' AND idx=(SELECT max(idx) FROM"
             " history)",
             fx->ids[4], fx->ids[1200]);
    expect_integrity(fx->v, sql, "history table differs");
}

/*
 * Damage SQLite's structure check sees but no query trips over (a NULL where the schema now says
 * NOT NULL): quick_check reports it as a row, not an error code, and verify must fail on it.
 */
static void
test_verify__structure_check_rows_are_damage(void **state)
{
    struct fixture *fx = *state;
    expect_integrity(fx->v,
                     "CREATE TABLE damage(a); INSERT INTO damage VALUES(NULL);"
                     " PRAGMA writable_schema=ON;"
                     " UPDATE sqlite_schema SET sql='CREATE TABLE damage(a NOT NULL)'"
                     " WHERE name='damage'; PRAGMA writable_schema=RESET",
                     "database structure is damaged");
}

/*
 * The structure check and the stored history's sum run on a helper thread over a second
 * connection from the start, but their failure is still reported where they were due: before a
 * failure verify finds later on its own thread, after one it found before they were due.
 */
static void
test_verify__helper_failure_reported_in_order(void **state)
{
    struct fixture *fx = *state;
    char sql[1024];
    static const char damage[] = "CREATE TABLE damage(a); INSERT INTO damage VALUES(NULL);"
                                 " PRAGMA writable_schema=ON;"
                                 " UPDATE sqlite_schema SET sql='CREATE TABLE damage(a NOT NULL)'"
                                 " WHERE name='damage'; PRAGMA writable_schema=RESET;";
    static const char bad_leaf[] = "UPDATE envelopes SET leaf_hash = zeroblob(32) WHERE idx = %d";
    add_envelopes(fx->v, 4);
    snprintf(sql, sizeof sql, bad_leaf, 3);
    expect_integrity(fx->v, sql, "log entry 3 does not match its leaf hash");
    teardown(state);
    assert_int_equal(setup(state), 0);
    add_envelopes(fx->v, 4);
    /* due after the first envelope is applied: before envelope 3's leaf, after envelope 0's */
    snprintf(sql, sizeof sql, "%s", damage);
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql), bad_leaf, 3);
    expect_integrity(fx->v, sql, "database structure is damaged");
    teardown(state);
    assert_int_equal(setup(state), 0);
    add_envelopes(fx->v, 4);
    snprintf(sql, sizeof sql, "%s", damage);
    snprintf(sql + strlen(sql), sizeof sql - strlen(sql), bad_leaf, 0);
    expect_integrity(fx->v, sql, "log entry 0 does not match its leaf hash");
}

/* 1 when another process would find a lock on the vault's database file (F_GETLK). */
static int
locked_for_others(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDWR | O_CLOEXEC);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        _exit(fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? 1 : 0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

/*
 * The second connection verify reads through sees the committed state (the WAL included),
 * writes nothing, and closing it leaves the vault's connection, and its lock on the file, as
 * they were.
 */
static void
test_verify__reader_connection(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    sqlite3 *db = vault_db(fx->v);
    char path[512];
    snprintf(path, sizeof path, "%s", sqlite3_db_filename(db, "main"));
    assert_int_equal(locked_for_others(path), 1);
    exec(fx->v, "CREATE TABLE reader_probe(a); INSERT INTO reader_probe VALUES(42)");
    sqlite3 *rdb = NULL;
    assert_int_equal(store_reader_open(db, &rdb, &err), DFT_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(rdb, "SELECT a FROM reader_probe", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 42);
    sqlite3_finalize(st);
    assert_int_not_equal(sqlite3_exec(rdb, "INSERT INTO reader_probe VALUES(1)", NULL, NULL, NULL),
                         SQLITE_OK);
    store_reader_close(rdb);
    assert_int_equal(locked_for_others(path), 1);
    exec(fx->v, "INSERT INTO reader_probe VALUES(43); DROP TABLE reader_probe");
    assert_verifies(fx->v);
    assert_int_equal(locked_for_others(path), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify__search_rows_changed_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify__helper_failure_reported_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify__reader_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify__search_rows_missing_or_extra, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify__fulltext_check_reported_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify__view_rows_in_another_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify__history_changes_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify__history_of_every_kind_verifies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_verify__structure_check_rows_are_damage, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
