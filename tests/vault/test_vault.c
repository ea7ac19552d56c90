/*
 * test_vault.c - the vault API on real vaults in temporary directories: add, show, list, edit,
 * delete and link; batches that are all or nothing; verify catching view rows and envelope rows
 * changed behind the library's back with SQL.
 *
 * Argon2id is slow, so one template vault is created per run and each test opens a copy of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"
#include "vault/fixture.h"
#include "defter/vault.h"
#include "vault/vault_internal.h"

static const char pass[] = "vault test passphrase";

struct fixture {
    char root[64];  /* temp directory holding everything */
    char tmpl[128]; /* the template vault */
    char dir[128];  /* this test's copy */
    struct dft_vault *v;
    int copies;
};

static int
group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct dft_error err = {0};
    if (fx == NULL) {
        return -1;
    }
    snprintf(fx->root, sizeof fx->root, "/tmp/dft-vault-XXXXXX");
    if (mkdtemp(fx->root) == NULL) {
        return -1;
    }
    snprintf(fx->tmpl, sizeof fx->tmpl, "%s/template", fx->root);
    if (dft_vault_create(fx->tmpl, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK) {
        fprintf(stderr, "create: %s\n", err.msg);
        return -1;
    }
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

/* ---- helpers ---- */

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        print_error("bad test json: %s\n", jerr.text);
    }
    assert_non_null(j);
    return j;
}

static json_int_t
log_size(struct dft_vault *v)
{
    json_t *log = NULL;
    assert_int_equal(dft_vault_log(v, 0, 0, &log, NULL), DFT_OK);
    json_int_t n = json_integer_value(json_object_get(log, "size"));
    json_decref(log);
    return n;
}

static size_t
list_count(struct dft_vault *v)
{
    json_t *l = NULL;
    assert_int_equal(dft_vault_list(v, NULL, &l, NULL), DFT_OK);
    size_t n = json_array_size(l);
    json_decref(l);
    return n;
}

static void
assert_verifies(struct dft_vault *v)
{
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = dft_vault_verify(v, 0, &report, &err);
    if (rc != DFT_OK) {
        print_error("verify: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    assert_true(json_is_true(json_object_get(report, "ok")));
    json_decref(report);
}

static enum dft_err
verify_code(struct dft_vault *v, struct dft_error *err)
{
    json_t *report = NULL;
    dft_error_clear(err); /* the first message set wins: start afresh */
    enum dft_err rc = dft_vault_verify(v, 0, &report, err);
    json_decref(report);
    return rc;
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

/* Add one record from JSON text; the new id into id (DFT_ID_MAX). */
static void
add_one(struct dft_vault *v, const char *item_json, char *id)
{
    struct dft_error err = {0};
    json_t *items = json_pack("[o]", parse(item_json));
    json_t *ids = NULL;
    enum dft_err rc = dft_vault_add(v, items, &ids, &err);
    if (rc != DFT_OK) {
        print_error("add: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    assert_int_equal(json_array_size(ids), 1);
    snprintf(id, DFT_ID_MAX, "%s", json_string_value(json_array_get(ids, 0)));
    json_decref(ids);
    json_decref(items);
}

/* ---- tests ---- */

static void
test_vault__wrong_passphrase_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_vault *other = NULL;
    struct stat before, after;
    char db[256];
    snprintf(db, sizeof db, "%s/vault.db", fx->tmpl);
    assert_int_equal(stat(db, &before), 0);
    assert_int_equal(dft_vault_open(&other, fx->tmpl, "wrong", 5, &err), DFT_ERR_PASSPHRASE);
    assert_null(other);
    assert_int_equal(stat(db, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_mtime, after.st_mtime);
}

static void
test_vault__add_show_list_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char per[DFT_ID_MAX], cas[DFT_ID_MAX];
    add_one(fx->v,
            "{\"type\":\"person\",\"name\":\"\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc "
            "\xd0\xa7\xd0\xb8\xd0\xb9\xd0\xb3\xd0\xbe\xd0\xb7\",\"x-name_crh\":\"Ahtem "
            "\xc3\x87iygoz\",\"x-born\":1972,\"tags\":[\"a\",{\"b\":true}],\"x-custom\":\"kept\"}",
            per);
    add_one(fx->v, "{\"type\":\"proceeding\",\"case_number\":\"1-12/2016\"}", cas);
    assert_true(strncmp(per, "per_", 4) == 0);
    assert_int_equal(strlen(per), 4 + 16);
    assert_true(strncmp(cas, "proc_", 5) == 0);

    json_t *rec = NULL;
    assert_int_equal(dft_vault_show(fx->v, per, DFT_SHOW_HISTORY, &rec, &err), DFT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "type")), "person");
    assert_string_equal(json_string_value(json_object_get(rec, "title")),
                        "\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc "
                        "\xd0\xa7\xd0\xb8\xd0\xb9\xd0\xb3\xd0\xbe\xd0\xb7");
    json_t *fields = json_object_get(rec, "fields");
    assert_int_equal(json_integer_value(json_object_get(fields, "x-born")), 1972);
    assert_string_equal(json_string_value(json_object_get(fields, "x-custom")), "kept");
    json_t *want_tags = parse("[\"a\",{\"b\":true}]");
    assert_true(json_equal(json_object_get(fields, "tags"), want_tags));
    json_decref(want_tags);
    assert_null(json_object_get(fields, "type"));
    assert_int_equal(json_array_size(json_object_get(rec, "history")), 1);
    json_decref(rec);

    assert_int_equal(dft_vault_show(fx->v, cas, 0, &rec, &err), DFT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "title")), "1-12/2016");
    json_decref(rec);

    assert_int_equal(list_count(fx->v), 2);
    json_t *l = NULL;
    assert_int_equal(dft_vault_list(fx->v, "person", &l, &err), DFT_OK);
    assert_int_equal(json_array_size(l), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "id")), per);
    json_decref(l);
    assert_int_equal(dft_vault_list(fx->v, "robot", &l, &err), DFT_ERR_INPUT);
    assert_int_equal(dft_vault_show(fx->v, "per_0000000000000000", 0, &rec, &err),
                     DFT_ERR_NOT_FOUND);
    assert_int_equal(log_size(fx->v), 2);
    assert_verifies(fx->v);

    /* and after closing and opening again */
    dft_vault_close(fx->v);
    fx->v = NULL;
    assert_int_equal(dft_vault_open(&fx->v, fx->dir, pass, strlen(pass), &err), DFT_OK);
    assert_int_equal(list_count(fx->v), 2);
    assert_verifies(fx->v);
}

static void
test_vault__edit_changes_fields_and_keeps_history(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char per[DFT_ID_MAX];
    add_one(fx->v, "{\"type\":\"person\",\"name\":\"Old Name\",\"x-note\":\"to remove\"}", per);
    json_t *f = parse("{\"name\":\"\xc3\x87iygoz\",\"x-note\":null,\"x-age\":50}");
    assert_int_equal(dft_vault_edit(fx->v, per, f, &err), DFT_OK);
    json_decref(f);
    json_t *rec = NULL;
    assert_int_equal(dft_vault_show(fx->v, per, DFT_SHOW_HISTORY, &rec, &err), DFT_OK);
    json_t *fields = json_object_get(rec, "fields");
    assert_string_equal(json_string_value(json_object_get(fields, "name")), "\xc3\x87iygoz");
    assert_string_equal(json_string_value(json_object_get(rec, "title")), "\xc3\x87iygoz");
    assert_null(json_object_get(fields, "x-note"));
    assert_int_equal(json_integer_value(json_object_get(fields, "x-age")), 50);
    assert_int_equal(json_array_size(json_object_get(rec, "history")), 2);
    json_decref(rec);

    /* must-not: each bad edit fails with its code and writes nothing */
    static const struct {
        const char *id; /* NULL: the record */
        const char *fields;
        enum dft_err want;
    } bad[] = {
        {NULL, "{\"type\":\"case\"}", DFT_ERR_INPUT},
        {NULL, "{}", DFT_ERR_INPUT},
        {NULL, "{\"bad name\":1}", DFT_ERR_INPUT},
        {NULL, "{\"x\":1.5}", DFT_ERR_INPUT},
        {"per_zzzzzzzzzzzzzzzz", "{\"x\":1}", DFT_ERR_NOT_FOUND},
        {"PER_bad id", "{\"x\":1}", DFT_ERR_NOT_FOUND},
        {"", "{\"x\":1}", DFT_ERR_NOT_FOUND},
    };
    json_int_t size = log_size(fx->v);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *bf = parse(bad[i].fields);
        assert_int_equal(dft_vault_edit(fx->v, bad[i].id != NULL ? bad[i].id : per, bf, &err),
                         bad[i].want);
        json_decref(bf);
    }
    assert_int_equal(log_size(fx->v), size);
    assert_verifies(fx->v);
}

static void
test_vault__link_and_delete(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char per[DFT_ID_MAX], cas[DFT_ID_MAX], lnk[DFT_ID_MAX];
    add_one(fx->v, "{\"type\":\"person\",\"name\":\"Victim\"}", per);
    add_one(fx->v, "{\"type\":\"case\",\"title\":\"The case\"}", cas);
    assert_int_equal(dft_vault_link(fx->v, per, cas, "victim", lnk, &err), DFT_OK);
    assert_true(strncmp(lnk, "lnk_", 4) == 0);
    json_t *rec = NULL;
    assert_int_equal(dft_vault_show(fx->v, cas, 0, &rec, &err), DFT_OK);
    json_t *rel = json_object_get(rec, "relations");
    assert_int_equal(json_array_size(rel), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "role")),
                        "victim");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "other")), per);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rel, 0), "direction")),
                        "in");
    json_decref(rec);

    /* must-not links */
    json_int_t size = log_size(fx->v);
    char tmp[DFT_ID_MAX];
    assert_int_equal(dft_vault_link(fx->v, per, per, "victim", tmp, &err), DFT_ERR_INPUT);
    assert_int_equal(dft_vault_link(fx->v, per, cas, "Victim!", tmp, &err), DFT_ERR_INPUT);
    assert_int_equal(dft_vault_link(fx->v, per, cas, "", tmp, &err), DFT_ERR_INPUT);
    assert_int_equal(dft_vault_link(fx->v, per, "case_zzzzzzzzzzzzzzzz", "victim", tmp, &err),
                     DFT_ERR_NOT_FOUND);
    assert_int_equal(dft_vault_link(fx->v, lnk, cas, "victim", tmp, &err), DFT_ERR_NOT_FOUND);
    assert_int_equal(log_size(fx->v), size);

    /* deleting the link removes the relation; the record keeps its history */
    assert_int_equal(dft_vault_delete(fx->v, lnk, &err), DFT_OK);
    assert_int_equal(dft_vault_show(fx->v, cas, 0, &rec, &err), DFT_OK);
    assert_int_equal(json_array_size(json_object_get(rec, "relations")), 0);
    json_decref(rec);
    assert_int_equal(dft_vault_delete(fx->v, lnk, &err), DFT_ERR_NOT_FOUND);

    assert_int_equal(dft_vault_delete(fx->v, per, &err), DFT_OK);
    assert_int_equal(list_count(fx->v), 1);
    assert_int_equal(dft_vault_show(fx->v, per, DFT_SHOW_HISTORY, &rec, &err), DFT_OK);
    assert_true(json_is_true(json_object_get(rec, "deleted")));
    assert_int_equal(json_array_size(json_object_get(rec, "history")),
                     4); /* create, link, unlink, delete */
    json_decref(rec);
    assert_int_equal(dft_vault_delete(fx->v, per, &err), DFT_ERR_NOT_FOUND);
    json_t *f = parse("{\"name\":\"x\"}");
    assert_int_equal(dft_vault_edit(fx->v, per, f, &err), DFT_ERR_NOT_FOUND);
    json_decref(f);
    assert_int_equal(dft_vault_link(fx->v, per, cas, "victim", tmp, &err), DFT_ERR_NOT_FOUND);
    assert_verifies(fx->v);
}

/* Five records whose third is bad in one way: nothing of the batch may land. */
static void
test_vault__batch_is_all_or_nothing(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    static const struct {
        const char *third;
        enum dft_err want;
    } bad[] = {
        {"{\"type\":\"robot\",\"name\":\"x\"}", DFT_ERR_INPUT},
        {"{\"name\":\"no type\"}", DFT_ERR_INPUT},
        {"{\"type\":7}", DFT_ERR_INPUT},
        {"\"not an object\"", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"bad name\":\"x\"}", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"\":\"x\"}", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"name\":null}", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"score\":2.5}", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"deep\":[[[[[[[[[[1]]]]]]]]]]}", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"key\":5}", DFT_ERR_INPUT},
        {"{\"type\":\"person\",\"key\":\"k1\"}", DFT_ERR_INPUT}, /* key used twice */
        {NULL, DFT_ERR_INPUT},                                   /* invalid UTF-8 */
    };
    json_t *good = json_pack("{ssssss}", "type", "person", "name", "Good", "key", "k1");
    json_int_t size = log_size(fx->v);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *third = bad[i].third != NULL
                            ? json_loads(bad[i].third, JSON_DECODE_ANY, NULL)
                            : json_pack("{ssso}", "type", "person", "name",
                                        json_stringn_nocheck("bad \xff\xfe utf-8", 12));
        assert_non_null(third);
        json_t *items = json_array();
        for (int k = 0; k < 5; k++) {
            if (k == 2) {
                json_array_append(items, third);
            } else {
                json_t *g = json_deep_copy(good);
                if (k > 0) {
                    char key[8];
                    snprintf(key, sizeof key, "k%d", k + 10);
                    json_object_set_new(g, "key", json_string(key));
                }
                json_array_append_new(items, g);
            }
        }
        json_t *ids = NULL;
        enum dft_err rc = dft_vault_add(fx->v, items, &ids, &err);
        if (rc != bad[i].want) {
            print_error("case %zu: %d %s\n", i, rc, err.msg);
        }
        assert_int_equal(rc, bad[i].want);
        assert_null(ids);
        assert_int_equal(dft_vault_check_items(items, NULL, NULL, NULL), bad[i].want);
        json_decref(items);
        json_decref(third);
        assert_int_equal(log_size(fx->v), size);
        assert_int_equal(list_count(fx->v), 0);
    }

    /* links in the document form are checked as part of the batch too */
    static const char *const bad_docs[] = {
        "{\"records\":[{\"type\":\"person\",\"key\":\"a\"},{\"type\":\"case\",\"key\":\"b\"}],"
        "\"links\":[[\"a\",\"c\",\"victim\"]]}",
        "{\"records\":[{\"type\":\"person\",\"key\":\"a\"},{\"type\":\"case\",\"key\":\"b\"}],"
        "\"links\":[[\"a\",\"a\",\"victim\"]]}",
        "{\"records\":[{\"type\":\"person\",\"key\":\"a\"},{\"type\":\"case\",\"key\":\"b\"}],"
        "\"links\":[[\"a\",\"b\",\"Bad Role\"]]}",
        "{\"records\":[{\"type\":\"person\",\"key\":\"a\"},{\"type\":\"case\",\"key\":\"b\"}],"
        "\"links\":[[\"a\",\"b\"]]}",
        "{\"records\":[{\"type\":\"person\",\"key\":\"a\"}],\"links\":{}}",
        "{\"records\":[]}",
        "[]",
        "{}",
    };
    for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
        json_t *doc = parse(bad_docs[i]);
        json_t *ids = NULL;
        assert_int_equal(dft_vault_add(fx->v, doc, &ids, &err), DFT_ERR_INPUT);
        json_decref(doc);
    }
    assert_int_equal(log_size(fx->v), size);
    assert_int_equal(list_count(fx->v), 0);

    /* the good batch lands whole, in one envelope */
    json_t *doc = parse(
        "{\"records\":[{\"type\":\"person\",\"key\":\"a\",\"name\":\"A\"},{\"type\":\"person\","
        "\"name\":\"B\"},{\"type\":\"case\",\"key\":\"c\",\"title\":\"C\"},{\"type\":\"event\"},"
        "{\"type\":\"note\",\"summary\":\"E\"}],\"links\":[[\"a\",\"c\",\"victim\"]]}");
    json_t *ops = NULL, *ids = NULL;
    assert_int_equal(dft_vault_check_items(doc, &ops, &ids, &err), DFT_OK);
    assert_int_equal(json_array_size(ops), 6);
    assert_int_equal(json_array_size(ids), 5);
    json_decref(ops);
    json_decref(ids);
    assert_int_equal(dft_vault_add(fx->v, doc, &ids, &err), DFT_OK);
    assert_int_equal(json_array_size(ids), 5);
    json_decref(ids);
    json_decref(doc);
    json_decref(good);
    assert_int_equal(log_size(fx->v), size + 1);
    assert_int_equal(list_count(fx->v), 5);
    assert_verifies(fx->v);
}

/*
 * A batch big enough for the threaded path and for the canonical JSON made ahead to wrap its
 * window of slots: the view it leaves equals the one verify rebuilds from the envelope alone.
 */
static void
test_vault__big_batch_view_matches_rebuild(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    json_t *recs = json_array();
    json_t *links = json_array();
    for (int i = 0; i < 4500; i++) {
        char name[64], key[16];
        snprintf(name, sizeof name, "Эмиль \"Q\"\n Къурбединов %d", i);
        snprintf(key, sizeof key, "k%d", i);
        json_array_append_new(recs, json_pack("{ss ss ss s[s]}", "type", i % 7 ? "person" : "event",
                                              "key", key, i % 7 ? "name" : "title", name,
                                              i % 7 ? "name_variants" : "tags", "Emil"));
        if (i > 0 && i % 500 == 0) {
            char prev[16];
            snprintf(prev, sizeof prev, "k%d", i - 1);
            json_array_append_new(links, json_pack("[sss]", prev, key, "relative"));
        }
    }
    json_t *doc = json_pack("{soso}", "records", recs, "links", links);
    json_t *ids = NULL;
    assert_int_equal(dft_vault_add(fx->v, doc, &ids, &err), DFT_OK);
    assert_int_equal(json_array_size(ids), 4500);
    json_decref(ids);
    json_decref(doc);
    assert_int_equal(list_count(fx->v), 4500);
    assert_verifies(fx->v);
}

/* A view row changed directly with SQL is found by verify; undoing it makes verify pass. */
static void
test_vault__verify_detects_changed_view_rows(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char per[DFT_ID_MAX], cas[DFT_ID_MAX], lnk[DFT_ID_MAX];
    add_one(fx->v, "{\"type\":\"person\",\"name\":\"Real\"}", per);
    add_one(fx->v, "{\"type\":\"case\",\"title\":\"Case\"}", cas);
    assert_int_equal(dft_vault_link(fx->v, per, cas, "witness", lnk, &err), DFT_OK);
    assert_verifies(fx->v);
    static const struct {
        const char *forge;
        const char *undo;
    } cases[] = {
        {"UPDATE records SET title='Forged' WHERE type='person'",
         "UPDATE records SET title='Real' WHERE type='person'"},
        {"UPDATE records SET fields='{\"name\":\"Real\",\"x\":1}' WHERE type='person'",
         "UPDATE records SET fields='{\"name\":\"Real\"}' WHERE type='person'"},
        {"UPDATE records SET deleted=1 WHERE type='case'",
         "UPDATE records SET deleted=0 WHERE type='case'"},
        {"UPDATE records SET type='note' WHERE type='case'",
         "UPDATE records SET type='case' WHERE type='note'"},
        {"UPDATE links SET role='judge'", "UPDATE links SET role='witness'"},
        {"UPDATE links SET src=dst, dst=src", "UPDATE links SET src=dst, dst=src"},
        {"UPDATE history SET op=op||' '", "UPDATE history SET op=substr(op,1,length(op)-1)"},
        {"UPDATE entries SET action='forged' WHERE idx=0",
         "UPDATE entries SET action='create' WHERE idx=0"},
        {"INSERT INTO history(record,idx,seq,op) VALUES('per_zzzzzzzzzzzzzzzz',0,0,'{}')",
         "DELETE FROM history WHERE record='per_zzzzzzzzzzzzzzzz'"},
        {"INSERT INTO entries(idx,action,author,ts,records) VALUES(99,'create','x','x','[]')",
         "DELETE FROM entries WHERE idx=99"},
        {"INSERT INTO records(id,type,title,fields,created,updated) VALUES"
         "('per_zzzzzzzzzzzzzzzz','person','Ghost','{}','x','x')",
         "DELETE FROM records WHERE id='per_zzzzzzzzzzzzzzzz'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        exec(fx->v, cases[i].forge);
        enum dft_err rc = verify_code(fx->v, &err);
        if (rc != DFT_ERR_INTEGRITY) {
            print_error("%s: %d\n", cases[i].forge, rc);
        }
        assert_int_equal(rc, DFT_ERR_INTEGRITY);
        exec(fx->v, cases[i].undo);
        assert_verifies(fx->v);
    }
    /* a row removed from the view */
    exec(fx->v, "DELETE FROM links");
    assert_int_equal(verify_code(fx->v, &err), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(err.msg, "the links table differs"));
}

static void
set_envelope(struct dft_vault *v, int64_t idx, const void *env, size_t n, int with_leaf)
{
    sqlite3_stmt *st = NULL;
    const char *sql = with_leaf ? "UPDATE envelopes SET envelope=?1, leaf_hash=?3 WHERE idx=?2"
                                : "UPDATE envelopes SET envelope=?1 WHERE idx=?2";
    assert_int_equal(sqlite3_prepare_v2(vault_db(v), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, env, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, idx);
    if (with_leaf) {
        unsigned char leaf[32];
        unsigned char zero = 0;
        crypto_hash_sha256_state hs;
        crypto_hash_sha256_init(&hs);
        crypto_hash_sha256_update(&hs, &zero, 1);
        crypto_hash_sha256_update(&hs, env, n);
        crypto_hash_sha256_final(&hs, leaf);
        sqlite3_bind_blob(st, 3, leaf, 32, SQLITE_TRANSIENT);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void
test_vault__verify_detects_changed_envelope_rows(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char a[DFT_ID_MAX], b[DFT_ID_MAX];
    add_one(fx->v, "{\"type\":\"person\",\"name\":\"A\"}", a);
    add_one(fx->v, "{\"type\":\"person\",\"name\":\"B\"}", b);
    assert_verifies(fx->v);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(fx->v),
                                        "SELECT envelope FROM envelopes WHERE idx=1", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    unsigned char *orig = malloc(n);
    unsigned char *p = malloc(n);
    memcpy(orig, sqlite3_column_blob(st, 0), n);
    sqlite3_finalize(st);

    /* sampled byte flips: head, signature, nonce, length, ciphertext, tag */
    static const size_t offsets[] = {0, 4, 10, 40, 60, 100, 140, 163, 170, 0 /* last */};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        size_t off = i + 1 == sizeof offsets / sizeof offsets[0] ? n - 1 : offsets[i];
        for (int with_leaf = 0; with_leaf <= 1; with_leaf++) {
            memcpy(p, orig, n);
            p[off] ^= 0x20;
            set_envelope(fx->v, 1, p, n, with_leaf);
            enum dft_err rc = verify_code(fx->v, &err);
            if (rc != DFT_ERR_INTEGRITY) {
                print_error("offset %zu leaf %d: %d\n", off, with_leaf, rc);
            }
            assert_int_equal(rc, DFT_ERR_INTEGRITY);
        }
    }
    set_envelope(fx->v, 1, orig, n, 1);
    assert_verifies(fx->v);

    /* the envelope of one entry swapped in for another (leaf hashes moved along) */
    exec(fx->v, "UPDATE envelopes SET idx=-1 WHERE idx=0");
    exec(fx->v, "UPDATE envelopes SET idx=0 WHERE idx=1");
    exec(fx->v, "UPDATE envelopes SET idx=1 WHERE idx=-1");
    assert_int_equal(verify_code(fx->v, &err), DFT_ERR_INTEGRITY);
    exec(fx->v, "UPDATE envelopes SET idx=-1 WHERE idx=0");
    exec(fx->v, "UPDATE envelopes SET idx=0 WHERE idx=1");
    exec(fx->v, "UPDATE envelopes SET idx=1 WHERE idx=-1");
    assert_verifies(fx->v);

    /* the last envelope removed */
    exec(fx->v, "DELETE FROM envelopes WHERE idx=1");
    assert_int_equal(verify_code(fx->v, &err), DFT_ERR_INTEGRITY);
    free(orig);
    free(p);
}

/* verify rebuilds the search index contents (names, body, keys), not only ids and titles. */
static void
test_vault__verify_detects_forged_search_rows(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char a[DFT_ID_MAX];
    char sql[512];
    add_one(fx->v,
            "{\"type\":\"person\",\"name\":\"Server Mustafayev\",\"summary\":\"human rights "
            "defender\",\"name_variants\":[\"Сервер Мустафаев\"]}",
            a);
    assert_verifies(fx->v);
    static const struct {
        const char *forge, *undo, *what;
    } cases[] = {
        {"UPDATE search_doc SET toks = toks || 'x'",
         "UPDATE search_doc SET toks = substr(toks, 1, "
         "length(toks) - 1)",
         "keys"},
        {"UPDATE search_doc SET body = 'forged'",
         "UPDATE search_doc SET body = 'human rights defender'", "body"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        exec(fx->v, cases[i].forge);
        assert_int_equal(verify_code(fx->v, &err), DFT_ERR_INTEGRITY);
        if (strstr(err.msg, cases[i].what) == NULL) {
            print_error("%s: %s\n", cases[i].forge, err.msg);
        }
        assert_non_null(strstr(err.msg, cases[i].what));
        exec(fx->v, cases[i].undo);
        assert_verifies(fx->v);
    }
    /* names changed consistently with the FTS index: only the rebuild finds it */
    snprintf(
        sql, sizeof sql,
        "INSERT INTO search_name(search_name, rowid, names) SELECT 'delete', rid, names FROM "
        "search_doc WHERE id='%s';"
        "UPDATE search_doc SET names='Forged Name' WHERE id='%s';"
        "INSERT INTO search_name(rowid, names) SELECT rid, names FROM search_doc WHERE id='%s'",
        a, a, a);
    exec(fx->v, sql);
    assert_int_equal(verify_code(fx->v, &err), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(err.msg, "search index"));
}

static json_t *
create_op(const char *id, const char *name)
{
    return json_pack("{sssssss{ss}}", "record", id, "action", "create", "type", "person", "fields",
                     "name", name);
}

/*
 * The creates of one envelope are indexed in batches (put_many on a worker thread): an update
 * or delete of a record made earlier in the same envelope still sees it, the index ends as verify
 * rebuilds it, and a batch failing after part of it was indexed leaves nothing at all.
 */
static void
test_vault__batch_index_follows_every_op(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char ids[600][DFT_ID_MAX];
    json_t *ops = json_array();
    for (int i = 0; i < 600; i++) {
        char name[64];
        dft_vault_new_id(ids[i], "per");
        snprintf(name, sizeof name, "Batchperson Number%d", i);
        if (i == 5) {
            snprintf(name, sizeof name, "Ozymandias Quetzalcoatl");
        } else if (i == 7) {
            snprintf(name, sizeof name, "Xerxes Popocatepetl");
        }
        json_array_append_new(ops, create_op(ids[i], name));
        if (i == 299) {
            json_array_append_new(ops, json_pack("{sssss{ss}}", "record", ids[5], "action",
                                                 "update", "fields", "name", "Zhyvko Bohdanets"));
            json_array_append_new(ops, json_pack("{ssss}", "record", ids[7], "action", "delete"));
        }
    }
    /* first a copy that fails at op 450, after the first 300 creates were indexed */
    json_t *bad = json_deep_copy(ops);
    json_object_del(json_array_get(bad, 450), "type");
    json_int_t size = log_size(fx->v);
    assert_int_not_equal(dft_vault_append_ops(fx->v, bad, NULL, &err), DFT_OK);
    json_decref(bad);
    assert_int_equal(log_size(fx->v), size);
    assert_int_equal(list_count(fx->v), 0);
    assert_false(vault_found(fx->v, "Quetzalcoatl", ids[5], 50));
    assert_false(vault_found(fx->v, "Zhyvko Bohdanets", ids[5], 50));
    assert_verifies(fx->v);

    assert_int_equal(dft_vault_append_ops(fx->v, ops, NULL, &err), DFT_OK);
    json_decref(ops);
    assert_int_equal(log_size(fx->v), size + 1);
    assert_int_equal(list_count(fx->v), 599);
    assert_true(vault_found(fx->v, "Zhyvko Bohdanets", ids[5], 50));
    assert_false(vault_found(fx->v, "Ozymandias Quetzalcoatl", ids[5], 50));
    assert_false(vault_found(fx->v, "Xerxes Popocatepetl", ids[7], 50));
    assert_true(vault_found(fx->v, "Batchperson Number599", ids[599], 50));
    assert_verifies(fx->v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vault__wrong_passphrase_changes_nothing),
        cmocka_unit_test_setup_teardown(test_vault__add_show_list_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault__edit_changes_fields_and_keeps_history, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vault__link_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault__verify_detects_forged_search_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vault__batch_is_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault__big_batch_view_matches_rebuild, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vault__batch_index_follows_every_op, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vault__verify_detects_changed_view_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_vault__verify_detects_changed_envelope_rows, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
