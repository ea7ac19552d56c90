/*
 * test_batch_add.c - a large batch add is built on two threads and its operations released on
 * another while it commits (items.c, commit.c): the operations come out in the records' order,
 * each as one record alone would give it; the first bad record in order is the one reported,
 * whichever half it is in; a batch that fails changes nothing; one that succeeds is found by
 * search in both halves and passes verify (the view and index equal their rebuild). A large
 * seal hashes its operations on two threads (envelope.c): it opens to the same operations, and
 * a bad operation in either thread's ranges fails it with the message it gives alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "testutil.h"
#include "vault/fixture.h"
#include "vault/keys_fixture.h"
#include "defter/crypto.h"
#include "defter/vault.h"
#include "vault/envelope.h"
#include "vault/idset.h"
#include "vault/view.h"

enum { N = 3000 }; /* above the size built on two threads (BUILD_THREADED in items.c) */

static const char pass[] = "batch add test passphrase";

static json_t *
person(int i)
{
    char name[64], alt[64];
    snprintf(name, sizeof name, "Batchadd Person%d", i);
    snprintf(alt, sizeof alt, "Вариант%d", i);
    return json_pack("{ss ss s[s] ss}", "type", "person", "name", name, "name_variants", alt,
                     "summary", "Detained after a search");
}

static json_t *
people(int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(a, person(i));
    }
    return a;
}

/* The op without its random record id. */
static json_t *
without_id(const json_t *op)
{
    json_t *c = json_deep_copy(op);
    json_object_del(c, "record");
    return c;
}

static void
test_batch_add__ops_in_order_as_alone(void **state)
{
    (void)state;
    struct dft_error err = {0};
    json_t *items = people(N);
    json_t *ops = NULL, *ids = NULL;
    assert_int_equal(dft_vault_check_items(items, &ops, &ids, &err), DFT_OK);
    assert_int_equal(json_array_size(ops), N);
    assert_int_equal(json_array_size(ids), N);
    const char *prev = "";
    for (int i = 0; i < N; i++) {
        const json_t *op = json_array_get(ops, (size_t)i);
        const char *id = json_string_value(json_array_get(ids, (size_t)i));
        assert_string_equal(json_string_value(json_object_get(op, "record")), id);
        assert_true(strcmp(prev, id) < 0); /* one sorted draw: ascending across both halves */
        prev = id;
        if (i % 97 != 0 && i != N / 2 - 1 && i != N / 2 && i != N - 1) {
            continue;
        }
        /* the same record added alone (built on the calling thread) gives the same op */
        json_t *one = json_array();
        json_array_append_new(one, person(i));
        json_t *ops1 = NULL;
        assert_int_equal(dft_vault_check_items(one, &ops1, NULL, &err), DFT_OK);
        json_t *a = without_id(op), *b = without_id(json_array_get(ops1, 0));
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        json_decref(ops1);
        json_decref(one);
    }
    json_decref(ops);
    json_decref(ids);
    json_decref(items);
}

/* check_items on items must fail with exactly the message want. */
static void
expect_error(json_t *items, const char *want)
{
    struct dft_error err = {0};
    json_t *ops = NULL, *ids = NULL;
    assert_int_equal(dft_vault_check_items(items, &ops, &ids, &err), DFT_ERR_INPUT);
    assert_string_equal(err.msg, want);
    assert_null(ops);
    assert_null(ids);
}

static void
test_batch_add__first_bad_record_in_order(void **state)
{
    (void)state;
    /* bad records in both halves: the first half's is reported */
    json_t *items = people(N);
    json_object_del(json_array_get(items, 2900), "type");
    json_object_set_new(json_array_get(items, 100), "name", json_null());
    expect_error(items, "field 'name' of record 100 is null");
    /* only in the second half */
    json_object_set_new(json_array_get(items, 100), "name", json_string("Fixed Name"));
    expect_error(items, "record 2900 has no \"type\"");
    /* a key used twice (checked in order) before a bad record of the second half */
    json_object_set_new(json_array_get(items, 10), "key", json_string("k"));
    json_object_set_new(json_array_get(items, 1600), "key", json_string("k"));
    expect_error(items, "key 'k' of record 1600 is used twice");
    /* the first record of the second half, and the last one */
    json_object_del(json_array_get(items, 1600), "key");
    json_object_set_new(json_array_get(items, 2900), "type", json_string("person"));
    json_array_set_new(items, N / 2, json_string("not an object"));
    json_array_set_new(items, N - 1, json_integer(7));
    expect_error(items, "record 1500 is not a JSON object");
    json_array_set_new(items, N / 2, person(N / 2));
    expect_error(items, "record 2999 is not a JSON object");
    json_decref(items);
}

/* A new vault in a new temporary folder root (a mkdtemp template), opened. */
static struct dft_vault *
fresh_vault(char *root)
{
    assert_non_null(mkdtemp(root));
    char dir[64];
    snprintf(dir, sizeof dir, "%s/vault", root);
    struct dft_error err = {0};
    assert_int_equal(dft_vault_create(dir, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err), DFT_OK);
    struct dft_vault *v = NULL;
    assert_int_equal(dft_vault_open(&v, dir, pass, strlen(pass), &err), DFT_OK);
    return v;
}

static void
test_batch_add__vault(void **state)
{
    (void)state;
    char root[] = "/tmp/dft-batchadd-XXXXXX";
    struct dft_error err = {0};
    struct dft_vault *v = fresh_vault(root);
    json_int_t size0 = vault_log_size(v);
    /* a bad record in the second half: nothing is written */
    json_t *items = people(N);
    json_object_set_new(json_array_get(items, N - 10), "bad field!", json_string("x"));
    json_t *ids = NULL;
    assert_int_not_equal(dft_vault_add(v, items, &ids, &err), DFT_OK);
    assert_null(ids);
    assert_int_equal(vault_log_size(v), size0);
    json_t *l = NULL;
    assert_int_equal(dft_vault_list(v, NULL, &l, &err), DFT_OK);
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    /* the same batch made good: one envelope, every record listed and found in both halves */
    json_object_del(json_array_get(items, N - 10), "bad field!");
    assert_int_equal(dft_vault_add(v, items, &ids, &err), DFT_OK);
    assert_int_equal(json_array_size(ids), N);
    assert_int_equal(vault_log_size(v), size0 + 1);
    assert_int_equal(dft_vault_list(v, NULL, &l, &err), DFT_OK);
    assert_int_equal(json_array_size(l), N);
    json_decref(l);
    assert_true(vault_found(v, "Batchadd Person7", json_string_value(json_array_get(ids, 7)), 20));
    assert_true(
        vault_found(v, "Batchadd Person2998", json_string_value(json_array_get(ids, 2998)), 20));
    vault_assert_verifies(v);
    /* the caller's items are untouched by the commit releasing its own operations */
    assert_int_equal(json_array_size(items), N);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 5), "name")),
                        "Batchadd Person5");
    json_decref(ids);
    json_decref(items);
    dft_vault_close(v);
    rm_rf(root);
}

/*
 * A batch large enough for the canonical JSON made ahead (view.c), whose records' fields are
 * cut from each op's canonical JSON: fields holding what looks like JSON structure (a quoted
 * "fields" key, braces, escapes, nested objects with a "fields" member) are stored exactly as
 * given, and the view equals the one verify rebuilds (encoding the fields on their own).
 */
static void
test_batch_add__tricky_fields_stored_exactly(void **state)
{
    (void)state;
    char root[] = "/tmp/dft-batchadd-XXXXXX";
    struct dft_error err = {0};
    struct dft_vault *v = fresh_vault(root);
    json_error_t jerr;
    json_t *items = json_array();
    for (int i = 0; i < 200; i++) {
        char text[400];
        snprintf(text, sizeof text,
                 "{\"type\":\"person\",\"name\":\"Tricky \\\"fields\\\":{\\\"x\\\":%d}} "
                 "\\\\ }{ ],[\",\"x-meta\":{\"fields\":{\"a\":[%d,{\"fields\":\"}\"}]},"
                 "\"z\":\"\\u0001\\u00e9\"},\"tags\":[\"a,b\",\"}{\"]}",
                 i, i);
        json_t *item = json_loads(text, 0, &jerr);
        assert_non_null(item);
        json_array_append_new(items, item);
    }
    json_t *ids = NULL;
    assert_int_equal(dft_vault_add(v, items, &ids, &err), DFT_OK);
    for (int i = 0; i < 200; i += 37) {
        json_t *rec = NULL;
        const char *id = json_string_value(json_array_get(ids, (size_t)i));
        assert_int_equal(dft_vault_show(v, id, 0, &rec, &err), DFT_OK);
        json_t *want = json_deep_copy(json_array_get(items, (size_t)i));
        json_object_del(want, "type");
        assert_true(json_equal(json_object_get(rec, "fields"), want));
        json_decref(want);
        json_decref(rec);
    }
    vault_assert_verifies(v);
    json_decref(ids);
    json_decref(items);
    dft_vault_close(v);
    rm_rf(root);
}

/* The member of a canonical object is found where its bytes are, and only a top-level one. */
static void
test_batch_add__canonical_member(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"action\":\"create\",\"fields\":{\"a\":1},\"id\":\"x\"}",
        "{\"a\":\"\\\"fields\\\":{\",\"b\":[{\"fields\":2},\"]}\"],\"fields\":{\"n\":\"}\\\\\"}}",
        "{\"a\":{\"fields\":{\"x\":1}},\"c\":true,\"fields\":{\"y\":[1,2,{\"z\":null}]}}",
        "{\"fields\":{}}",
        "{\"a\":-12,\"b\":false,\"fields\":{\"q\":\"\\u0001\\\\\"},\"z\":{}}",
        "{\"a\":1,\"b\":{\"fields\":{}}}", /* nested only */
        "{}",
        "{\"fieldsx\":{},\"xfields\":{}}",
    };
    struct dft_error err = {0};
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        json_error_t jerr;
        json_t *j = json_loads(docs[d], 0, &jerr);
        assert_non_null(j);
        struct dft_buf b, f;
        dft_buf_init(&b, 1 << 20, 0);
        dft_buf_init(&f, 1 << 20, 0);
        assert_int_equal(json_canonical(j, &b, &err), DFT_OK);
        size_t off = 0, len = 0;
        int rc = view_canonical_member(b.data, b.len, "fields", &off, &len);
        const json_t *want = json_object_get(j, "fields");
        if (want == NULL) {
            assert_int_equal(rc, -1);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(json_canonical(want, &f, &err), DFT_OK);
            assert_int_equal(len, f.len);
            assert_memory_equal(b.data + off, f.data, len);
        }
        dft_buf_release(&b);
        dft_buf_release(&f);
        json_decref(j);
    }
    /* not canonical object JSON: no member */
    size_t off = 0, len = 0;
    assert_int_equal(view_canonical_member((const unsigned char *)"[1]", 3, "fields", &off, &len),
                     -1);
    assert_int_equal(
        view_canonical_member((const unsigned char *)"{\"fields\":", 10, "fields", &off, &len), -1);
    assert_int_equal(
        view_canonical_member((const unsigned char *)"{\"fields\"", 9, "fields", &off, &len), -1);
}

/*
 * More operations than the window of canonical JSON the sealer hands to the view (4096): a batch
 * whose view fails early (op 10 has no type) while the sealer waits on a full window returns
 * with nothing written; the same batch made good commits, each record's history holds its op.
 */
static void
test_batch_add__failure_with_full_window(void **state)
{
    (void)state;
    enum { M = 6000 };
    char root[] = "/tmp/dft-batchadd-XXXXXX";
    struct dft_error err = {0};
    struct dft_vault *v = fresh_vault(root);
    json_int_t size0 = vault_log_size(v);
    json_t *ops = json_array();
    static char ids[M][DFT_ID_MAX];
    for (int i = 0; i < M; i++) {
        char name[64];
        dft_vault_new_id(ids[i], "per");
        snprintf(name, sizeof name, "Window Person%d", i);
        json_array_append_new(ops, json_pack("{sssssss{ss}}", "record", ids[i], "action", "create",
                                             "type", "person", "fields", "name", name));
    }
    json_t *bad = json_deep_copy(ops);
    json_object_del(json_array_get(bad, 10), "type");
    assert_int_not_equal(dft_vault_append_ops(v, bad, NULL, &err), DFT_OK);
    json_decref(bad);
    assert_int_equal(vault_log_size(v), size0);
    json_t *l = NULL;
    assert_int_equal(dft_vault_list(v, NULL, &l, &err), DFT_OK);
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    json_t *opids = NULL;
    assert_int_equal(dft_vault_append_ops(v, ops, &opids, &err), DFT_OK);
    assert_int_equal(vault_log_size(v), size0 + 1);
    for (int i = 0; i < M; i += 1499) {
        json_t *rec = NULL;
        assert_int_equal(dft_vault_show(v, ids[i], DFT_SHOW_HISTORY, &rec, &err), DFT_OK);
        const json_t *h = json_array_get(json_object_get(rec, "history"), 0);
        assert_non_null(h);
        assert_string_equal(json_string_value(json_object_get(h, "id")),
                            json_string_value(json_array_get(opids, (size_t)i)));
        json_decref(rec);
    }
    vault_assert_verifies(v);
    json_decref(opids);
    json_decref(ops);
    dft_vault_close(v);
    rm_rf(root);
}

/* n stamped create operations, as the commit seals them. */
static json_t *
seal_ops(const struct dft_keys *k, size_t n)
{
    char author[64];
    dft_b64_encode(author, k->sign_pk, DFT_SIGN_PK_BYTES);
    json_t *ops = json_array();
    for (size_t i = 0; i < n; i++) {
        char rec[32], op[32], name[64];
        snprintf(rec, sizeof rec, "per_%016zu", i);
        snprintf(op, sizeof op, "op_%016zu", i);
        snprintf(name, sizeof name, "Seal Person %zu", i);
        json_array_append_new(ops, json_pack("{si ss ss ss ss ss ss s{ss s[s]}}", "v", 1, "id", op,
                                             "ts", "2026-12-08T01:00:00.000Z", "author", author,
                                             "record", rec, "action", "create", "type", "person",
                                             "fields", "name", name, "name_variants", "Вариант"));
    }
    return ops;
}

/*
 * More operations than a seal hashes alone (SEAL_THREADED), not a whole number of its ranges:
 * the envelope opens (every operation's hash under its own salt key gives the signed root) to
 * the same operations; an operation whose hash fails (a field name too long) in the helper's
 * first range or in the last range fails the seal with that message, and writes nothing.
 */
static void
test_batch_add__seal_on_two_threads(void **state)
{
    (void)state;
    enum { S = 2 * 1024 + 77 };
    struct dft_error err = {0};
    assert_int_equal(dft_crypto_init(&err), DFT_OK);
    struct dft_keys *k = vault_random_keys();
    assert_non_null(k);
    json_t *ops = seal_ops(k, S);
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    json_t *back = NULL;
    assert_int_equal(envelope_open(k, env.data, env.len, &back, &err), DFT_OK);
    assert_true(json_equal(back, ops));
    json_decref(back);
    char longname[600];
    memset(longname, 'f', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const size_t bad_at[] = {0, 300, S - 1};
    for (size_t b = 0; b < sizeof bad_at / sizeof bad_at[0]; b++) {
        json_t *bad = json_deep_copy(ops);
        json_object_set_new(json_object_get(json_array_get(bad, bad_at[b]), "fields"), longname,
                            json_string("x"));
        struct dft_buf none;
        dft_buf_init(&none, DFT_ENV_MAX, 0);
        struct dft_error berr = {0};
        assert_int_equal(envelope_seal(k, bad, &none, &berr), DFT_ERR_TOO_LARGE);
        assert_string_equal(berr.msg, "field name too long");
        assert_int_equal(none.len, 0);
        dft_buf_release(&none);
        json_decref(bad);
    }
    dft_buf_release(&env);
    json_decref(ops);
    keys_free(k);
}

/*
 * The id set of a batch (idset.c): ids of any length (empty, under and over 8 bytes, sharing
 * prefixes) come back at the position of their first add, a second add finds the first, and an
 * absent id is absent, across the set's growth.
 */
static void
test_batch_add__idset(void **state)
{
    (void)state;
    enum { K = 5000 };
    static char ids[K][40];
    struct vault_idset set = VAULT_IDSET_INIT;
    assert_int_equal(vault_idset_find(&set, "per_x"), 0);
    for (int i = 0; i < K; i++) {
        snprintf(ids[i], sizeof ids[i], i % 3 == 0 ? "per_%d" : i % 3 == 1 ? "%d" : "op_%032d", i);
        size_t pos = 99;
        assert_int_equal(vault_idset_add(&set, ids[i], &pos), 1);
        assert_int_equal(pos, (size_t)i);
    }
    static char empty[1] = "";
    assert_int_equal(vault_idset_add(&set, empty, NULL), 1);
    for (int i = 0; i < K; i++) {
        char again[40];
        memcpy(again, ids[i], sizeof again); /* another pointer to the same text */
        size_t pos = 99;
        assert_int_equal(vault_idset_add(&set, again, &pos), 0);
        assert_int_equal(pos, (size_t)i);
        assert_int_equal(vault_idset_find(&set, again), (size_t)i + 1);
        again[strlen(again) - 1] ^= 0x40; /* the last character changed: not in the set */
        assert_int_equal(vault_idset_find(&set, again), 0);
    }
    assert_int_equal(vault_idset_find(&set, ""), (size_t)K + 1);
    assert_int_equal(set.n, (size_t)K + 1);
    vault_idset_free(&set);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_add__ops_in_order_as_alone),
        cmocka_unit_test(test_batch_add__first_bad_record_in_order),
        cmocka_unit_test(test_batch_add__canonical_member),
        cmocka_unit_test(test_batch_add__vault),
        cmocka_unit_test(test_batch_add__tricky_fields_stored_exactly),
        cmocka_unit_test(test_batch_add__failure_with_full_window),
        cmocka_unit_test(test_batch_add__seal_on_two_threads),
        cmocka_unit_test(test_batch_add__idset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
