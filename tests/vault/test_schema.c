/*
 * test_schema.c - the case model (src/vault/schema.c), lists and restore (lists.c) and CSV
 * (csv.c): ISO 8601 dates and their sort keys, refusals with suggestions, required fields,
 * vault extensions as signed operations, restore, filtered lists, readable history, CSV parse,
 * import (all or nothing, errors naming row and column) and export round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "vault/fixture.h"
#include "defter/model.h"
#include "defter/vault.h"
#include "vault/schema.h"

static const char pass[] = "schema test passphrase";

struct fixture {
    char root[64];
    char dir[128];
    struct dft_vault *v;
};

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct dft_error err = {0};
    snprintf(fx->root, sizeof fx->root, "/tmp/defter-test-schema-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->dir, sizeof fx->dir, "%s/v", fx->root);
    assert_int_equal(dft_vault_create(fx->dir, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err),
                     DFT_OK);
    assert_int_equal(dft_vault_open(&fx->v, fx->dir, pass, strlen(pass), &err), DFT_OK);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    dft_vault_close(fx->v);
    rm_rf(fx->root);
    free(fx);
    return 0;
}

static json_t *
parse(const char *s)
{
    json_error_t jerr;
    json_t *j = json_loads(s, 0, &jerr);
    assert_non_null(j);
    return j;
}

/* Add one record from JSON text; returns its id (static buffer). */
static const char *
add(struct dft_vault *v, const char *item)
{
    static char id[DFT_ID_MAX];
    json_t *items = json_pack("[o]", parse(item)), *ids = NULL;
    struct dft_error err = {0};
    enum dft_err rc = dft_vault_add(v, items, &ids, &err);
    if (rc != DFT_OK) {
        fail_msg("add %s: %s", item, err.msg);
    }
    snprintf(id, sizeof id, "%s", json_string_value(json_array_get(ids, 0)));
    json_decref(items);
    json_decref(ids);
    return id;
}

static void
test_schema__dates(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        long key;
        int approx;
    } good[] = {
        {"2014", 20140000, 0},       {"2014-02", 20140200, 0},  {"2014-02-26", 20140226, 0},
        {"2014~", 20140000, 1},      {"2014-02~", 20140200, 1}, {"2016-02-29", 20160229, 0},
        {"2000-02-29", 20000229, 0}, {"0001-01-01", 10101, 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        long key = -1;
        int approx = -1;
        assert_int_equal(dft_date_check("date", good[i].s, &key, &approx, NULL), DFT_OK);
        assert_int_equal(key, good[i].key);
        assert_int_equal(approx, good[i].approx);
    }
    static const char *const bad[] = {"",           "12.05.2016", "2014-13",          "2014-00",
                                      "2015-02-29", "1900-02-29", "2014-04-31",       "2014-2-6",
                                      "May 2014",   "14",         "2014-02-26T10:00", "~2014",
                                      "2014~~",     "20140226",   "2014/02/26",       "２０１４"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dft_error err = {0};
        assert_int_equal(dft_date_check("date", bad[i], NULL, NULL, &err), DFT_ERR_INPUT);
        assert_non_null(strstr(err.msg, "ISO 8601"));
    }
}

/* schema_check_ops on one op without a vault: the code and the message. */
static void
check_one(const char *op, enum dft_err want, const char *msg)
{
    json_t *ops = json_pack("[o]", parse(op));
    struct dft_error err = {0};
    int noop = 0;
    assert_int_equal(schema_check_ops(NULL, ops, &noop, &err), want);
    if (msg != NULL) {
        assert_string_equal(err.msg, msg);
    }
    json_decref(ops);
}

static void
test_schema__refusals_suggest(void **state)
{
    (void)state;
    check_one("{\"record\":\"case_1\",\"action\":\"create\",\"type\":\"case\",\"fields\":{"
              "\"title\":\"X\",\"staus\":\"open\"}}",
              DFT_ERR_INPUT, "unknown field 'staus' for case; did you mean 'status'?");
    check_one("{\"record\":\"case_1\",\"action\":\"create\",\"type\":\"case\",\"fields\":{"
              "\"summary\":\"no title\"}}",
              DFT_ERR_INPUT, "a case needs a title");
    check_one("{\"record\":\"per_1\",\"action\":\"create\",\"type\":\"person\",\"fields\":{"
              "\"name\":\"  \"}}",
              DFT_ERR_INPUT, "a person needs a name");
    check_one("{\"record\":\"case_1\",\"action\":\"create\",\"type\":\"case\",\"fields\":{"
              "\"title\":\"X\",\"status\":\"opne\"}}",
              DFT_ERR_INPUT, NULL);
    check_one("{\"record\":\"per_1\",\"action\":\"link\",\"to\":\"case_1\",\"fields\":{"
              "\"link\":\"lnk_1\",\"role\":\"victm\"}}",
              DFT_ERR_INPUT, "unknown role 'victm'; did you mean 'victim'?");
    check_one("{\"record\":\"evt_1\",\"action\":\"create\",\"type\":\"event\",\"fields\":{"
              "\"date\":12}}",
              DFT_ERR_INPUT, NULL);
    check_one("{\"record\":\"note_1\",\"action\":\"create\",\"type\":\"note\",\"fields\":{"
              "\"privileged\":\"maybe\"}}",
              DFT_ERR_INPUT, "field 'privileged' of a note is true or false");
    /* accepted: known fields of their kinds, x- fields, other actions */
    check_one("{\"record\":\"per_1\",\"action\":\"create\",\"type\":\"person\",\"fields\":{"
              "\"name\":\"A\",\"name_variants\":[\"B\"],\"birth_date\":\"1964~\",\"sex\":\"male\","
              "\"x-anything\":{\"a\":1}}}",
              DFT_OK, NULL);
    check_one("{\"record\":\"note_1\",\"action\":\"create\",\"type\":\"note\",\"fields\":{"
              "\"privileged\":true,\"text\":\"t\"}}",
              DFT_OK, NULL);
    check_one("{\"record\":\"evd_1\",\"action\":\"custody\",\"fields\":{\"whatever\":1}}", DFT_OK,
              NULL);
}

static void
test_schema__extensions_are_signed_operations(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    json_int_t n0 = vault_log_size(fx->v);
    assert_int_equal(dft_schema_add_field(fx->v, "case", "region", "text", &err), DFT_OK);
    assert_int_equal(dft_schema_add_field(fx->v, "person", "risk", "enum:low,high", &err), DFT_OK);
    assert_int_equal(dft_schema_add_role(fx->v, "observer", &err), DFT_OK);
    assert_int_equal(vault_log_size(fx->v), n0 + 3);
    /* refused: existing names, bad kinds, bad names, unknown types */
    static const char *const bad[][3] = {
        {"case", "region", "text"}, {"case", "status", "text"},   {"case", "n", "number"},
        {"case", "n", "enum:"},     {"case", "Bad Name", "text"}, {"robot", "n", "text"},
        {"case", "x-free", "text"}, {"case", "-n", "text"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dft_error e = {0};
        assert_int_equal(dft_schema_add_field(fx->v, bad[i][0], bad[i][1], bad[i][2], &e),
                         DFT_ERR_INPUT);
    }
    struct dft_error e = {0};
    assert_int_equal(dft_schema_add_role(fx->v, "victim", &e), DFT_ERR_INPUT);
    assert_int_equal(vault_log_size(fx->v), n0 + 3);
    /* the extensions are in the schema and accepted */
    json_t *s = NULL;
    assert_int_equal(dft_schema_get(fx->v, "person", &s, &err), DFT_OK);
    json_t *last = json_array_get(
        json_object_get(json_object_get(json_object_get(s, "types"), "person"), "fields"),
        json_array_size(
            json_object_get(json_object_get(json_object_get(s, "types"), "person"), "fields")) -
            1);
    assert_string_equal(json_string_value(json_object_get(last, "name")), "risk");
    assert_true(json_is_true(json_object_get(last, "custom")));
    json_decref(s);
    char cid[DFT_ID_MAX], pid[DFT_ID_MAX], lid[DFT_ID_MAX];
    snprintf(cid, sizeof cid, "%s",
             add(fx->v, "{\"type\":\"case\",\"title\":\"T\",\"region\":\"Crimea\"}"));
    snprintf(pid, sizeof pid, "%s",
             add(fx->v, "{\"type\":\"person\",\"name\":\"N\",\"risk\":\"high\"}"));
    assert_int_equal(dft_vault_link(fx->v, cid, pid, "observer", lid, &err), DFT_OK);
    json_t *items = json_pack("[{ss ss ss}]", "type", "person", "name", "M", "risk", "hihg");
    json_t *ids = NULL;
    e = (struct dft_error){0};
    assert_int_equal(dft_vault_add(fx->v, items, &ids, &e), DFT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "did you mean 'high'"));
    json_decref(items);
    json_t *report = NULL;
    assert_int_equal(dft_vault_verify(fx->v, 0, &report, &err), DFT_OK);
    json_decref(report);
}

static void
test_schema__edit_noop_restore_and_lists(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char p[DFT_ID_MAX], c1[DFT_ID_MAX], c2[DFT_ID_MAX];
    snprintf(p, sizeof p, "%s", add(fx->v, "{\"type\":\"person\",\"name\":\"Ilmi Umerov\"}"));
    snprintf(c1, sizeof c1, "%s",
             add(fx->v, "{\"type\":\"case\",\"title\":\"B\",\"status\":\"trial\","
                        "\"date\":\"2016-05~\",\"article\":[\"280\",\"110\"]}"));
    snprintf(c2, sizeof c2, "%s",
             add(fx->v, "{\"type\":\"case\",\"title\":\"A\",\"status\":\"closed\","
                        "\"date\":\"2014\"}"));
    json_int_t n0 = vault_log_size(fx->v);
    /* removing an absent field is a no-op, not an op */
    json_t *f = parse("{\"occupation\":null}");
    assert_int_equal(dft_vault_edit(fx->v, p, f, &err), DFT_OK);
    json_decref(f);
    assert_int_equal(vault_log_size(fx->v), n0);
    f = parse("{\"name\":null}");
    assert_int_equal(dft_vault_edit(fx->v, p, f, &err), DFT_ERR_INPUT);
    json_decref(f);
    f = parse("{\"status\":\"appeal\"}");
    assert_int_equal(dft_vault_edit(fx->v, c1, f, &err), DFT_OK);
    json_decref(f);
    /* history: old -> new per field */
    json_t *h = NULL;
    assert_int_equal(dft_vault_history(fx->v, c1, &h, &err), DFT_OK);
    json_t *last = json_array_get(h, json_array_size(h) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "action")), "update");
    json_t *ch = json_array_get(json_object_get(last, "changes"), 0);
    assert_string_equal(json_string_value(json_object_get(ch, "old")), "trial");
    assert_string_equal(json_string_value(json_object_get(ch, "new")), "appeal");
    assert_true(json_is_true(json_object_get(last, "by_vault_owner")));
    json_decref(h);
    /* lists: where (any element of a list), sort by date, from/to on partial dates */
    json_t *q = parse("{\"where\":{\"article\":\"110\"}}"), *out = NULL;
    assert_int_equal(dft_vault_list_query(fx->v, "case", q, &out, &err), DFT_OK);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    json_decref(q);
    q = parse("{\"sort\":\"date\"}");
    assert_int_equal(dft_vault_list_query(fx->v, "case", q, &out, &err), DFT_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "title")), "A");
    json_decref(out);
    json_decref(q);
    q = parse("{\"from\":\"2016-05-20\",\"to\":\"2016-06\"}");
    assert_int_equal(dft_vault_list_query(fx->v, "case", q, &out, &err), DFT_OK);
    assert_int_equal(json_array_size(out), 1); /* 2016-05~ covers 2016-05-20 */
    json_decref(out);
    json_decref(q);
    q = parse("{\"where\":{\"staus\":\"x\"}}");
    struct dft_error e = {0};
    assert_int_equal(dft_vault_list_query(fx->v, "case", q, &out, &e), DFT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "did you mean 'status'"));
    json_decref(q);
    /* delete and restore; a deleted record refuses edits and links */
    assert_int_equal(dft_vault_restore(fx->v, p, &e), DFT_ERR_INPUT);
    assert_int_equal(dft_vault_delete(fx->v, p, &err), DFT_OK);
    q = parse("{\"deleted\":true}");
    assert_int_equal(dft_vault_list_query(fx->v, NULL, q, &out, &err), DFT_OK);
    assert_int_equal(json_array_size(out), 1);
    json_decref(out);
    json_decref(q);
    f = parse("{\"occupation\":\"teacher\"}");
    e = (struct dft_error){0};
    assert_int_equal(dft_vault_edit(fx->v, p, f, &e), DFT_ERR_NOT_FOUND);
    json_decref(f);
    assert_int_equal(dft_vault_restore(fx->v, p, &err), DFT_OK);
    json_t *rec = NULL;
    assert_int_equal(dft_vault_show(fx->v, p, 0, &rec, &err), DFT_OK);
    assert_false(json_is_true(json_object_get(rec, "deleted")));
    json_decref(rec);
    json_t *report = NULL;
    assert_int_equal(dft_vault_verify(fx->v, 0, &report, &err), DFT_OK);
    json_decref(report);
}

static void
test_csv__parse_import_export(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    static const char text[] = "\xef\xbb\xbfname,name_variants,summary\r\n"
                               "\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc,\"Ahtem \xc3\x87iygoz; "
                               "A\",\"say \"\"hi\"\", ok\"\r\n"
                               "B,,\"two\nlines\"\r\n";
    json_t *rows = NULL;
    assert_int_equal(dft_csv_parse(text, strlen(text), &rows, &err), DFT_OK);
    assert_int_equal(json_array_size(rows), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "summary")),
                        "say \"hi\", ok");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "summary")),
                        "two\nlines");
    json_decref(rows);
    /* all or nothing: a bad row names row and column, and adds nothing */
    json_int_t n0 = vault_log_size(fx->v);
    static const char bad[] = "name,birth_date\nA,1990\nB,12.05.1990\n";
    struct dft_error e = {0};
    assert_int_equal(dft_csv_import(fx->v, bad, strlen(bad), "person", NULL, 0, NULL, &e),
                     DFT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "row 3, column 'birth_date'"));
    static const char *const worse[] = {
        "name,staus\nA,x\n", "name\n\"open\n",        "name\n",
        "name\n\xc3\x28\n",  "name,occupation\n,t\n", "name\nA,B\n"};
    for (size_t i = 0; i < sizeof worse / sizeof worse[0]; i++) {
        e = (struct dft_error){0};
        assert_int_equal(
            dft_csv_import(fx->v, worse[i], strlen(worse[i]), "person", NULL, 0, NULL, &e),
            DFT_ERR_INPUT);
        assert_true(e.msg[0] != '\0');
    }
    assert_int_equal(vault_log_size(fx->v), n0);
    /* import: one envelope; export and parse again gives the same cells */
    json_t *ids = NULL;
    assert_int_equal(dft_csv_import(fx->v, text, strlen(text), "person", NULL, 0, &ids, &err),
                     DFT_OK);
    assert_int_equal(json_array_size(ids), 2);
    json_decref(ids);
    assert_int_equal(vault_log_size(fx->v), n0 + 1);
    json_t *list = NULL;
    assert_int_equal(dft_vault_list_query(fx->v, "person", NULL, &list, &err), DFT_OK);
    struct dft_buf out;
    dft_buf_init(&out, 1 << 20, 0);
    assert_int_equal(dft_csv_export(list, &out, &err), DFT_OK);
    assert_int_equal(dft_csv_parse((const char *)out.data, out.len, &rows, &err), DFT_OK);
    assert_int_equal(json_array_size(rows), 2);
    json_t *a = json_array_get(rows, 1); /* sorted by title: "B" comes first */
    assert_string_equal(json_string_value(json_object_get(a, "title")),
                        "\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc");
    assert_string_equal(json_string_value(json_object_get(a, "name_variants")),
                        "Ahtem \xc3\x87iygoz; A");
    assert_string_equal(json_string_value(json_object_get(a, "summary")), "say \"hi\", ok");
    json_decref(rows);
    dft_buf_release(&out);
    json_decref(list);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema__dates),
        cmocka_unit_test(test_schema__refusals_suggest),
        cmocka_unit_test_setup_teardown(test_schema__extensions_are_signed_operations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_schema__edit_noop_restore_and_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv__parse_import_export, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
