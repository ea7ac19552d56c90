/*
 * test_witness.c - trusted witnesses replayed from the log, the policy, importing cosigned
 * checkpoints (every refusal with its exact code and nothing stored) and verify's re-check of
 * what is kept (a kept note that was altered, or whose root is not the tree's, is an integrity
 * failure).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "defter/crypto.h"
#include "store/store.h"
#include "log/tlog.h"
#include "defter/vault.h"
#include "log/witness_client.h"
#include "vault/vault_internal.h"

#define PASS "correct horse battery staple"
#define TS   1764000000u

struct witness {
    char name[32];
    unsigned char pk[32], sk[64];
    char vkey[DFT_NOTE_VKEY_MAX];
};

struct fixture {
    char dir[64];
    char vault[96];
    struct dft_vault *v;
    struct witness w[4]; /* w[3] is never trusted */
};

static void
make_witness(struct witness *w, const char *name, unsigned char seed_byte)
{
    unsigned char seed[32];
    struct dft_note_verifier v;
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(w->pk, w->sk, seed);
    snprintf(w->name, sizeof w->name, "%s", name);
    assert_int_equal(note_verifier_init(&v, name, DFT_NOTE_ALG_COSIG_V1, w->pk, NULL), DFT_OK);
    note_verifier_format(&v, w->vkey);
}

static void
add_records(struct fixture *f, int n)
{
    struct dft_error e = {0};
    for (int i = 0; i < n; i++) {
        json_t *items = json_pack("[{ssss}]", "type", "note", "text", "x");
        json_t *ids = NULL;
        assert_int_equal(dft_vault_add(f->v, items, &ids, &e), DFT_OK);
        json_decref(items);
        json_decref(ids);
    }
}

static void
append_op(struct fixture *f, json_t *op)
{
    struct dft_error e = {0};
    json_t *ops = json_pack("[o]", op);
    assert_int_equal(dft_vault_append_ops(f->v, ops, NULL, &e), DFT_OK);
    json_decref(ops);
}

static void
load(struct fixture *f, struct dft_witness_set *ws)
{
    struct dft_error e = {0};
    assert_int_equal(vault_witness_set(f->v, ws, &e), DFT_OK);
}

static void
trust(struct fixture *f, int i)
{
    struct dft_witness_set ws;
    struct dft_error e = {0};
    json_t *op = NULL;
    load(f, &ws);
    assert_int_equal(witness_add_op(&ws, f->w[i].vkey, &op, &e), DFT_OK);
    append_op(f, op);
}

static void
set_policy(struct fixture *f, uint64_t k)
{
    struct dft_witness_set ws;
    struct dft_error e = {0};
    json_t *op = NULL;
    load(f, &ws);
    assert_int_equal(witness_policy_op(&ws, k, &op, &e), DFT_OK);
    append_op(f, op);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct dft_error e = {0};
    assert_non_null(f);
    assert_int_equal(dft_crypto_init(&e), DFT_OK);
    snprintf(f->dir, sizeof f->dir, "/tmp/defter-test-witness-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->vault, sizeof f->vault, "%s/v", f->dir);
    assert_int_equal(dft_vault_create(f->vault, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &e),
                     DFT_OK);
    assert_int_equal(dft_vault_open(&f->v, f->vault, PASS, strlen(PASS), &e), DFT_OK);
    make_witness(&f->w[0], "witness.example/one", 1);
    make_witness(&f->w[1], "witness.example/two", 2);
    make_witness(&f->w[2], "witness.example/three", 3);
    make_witness(&f->w[3], "witness.example/stranger", 4);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    dft_vault_close(f->v);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* The vault's signed checkpoint of size with root (NULL: the tree's root at size). */
static void
checkpoint(struct fixture *f, uint64_t size, const unsigned char *root, struct dft_buf *out)
{
    struct dft_checkpoint c;
    struct dft_error e = {0};
    const struct dft_keys *k = vault_keys(f->v);
    memset(&c, 0, sizeof c);
    tlog_origin(c.origin, k->sign_pk);
    c.size = size;
    if (root != NULL) {
        memcpy(c.root, root, 32);
    } else {
        assert_int_equal(tlog_root(vault_db(f->v), size, c.root, &e), DFT_OK);
    }
    dft_buf_init(out, DFT_NOTE_MAX_BYTES, 0);
    assert_int_equal(checkpoint_sign(out, &c, k->sign_sk, &e), DFT_OK);
}

/* Append witness i's cosignature line of the note in b. */
static void
cosign(struct fixture *f, struct dft_buf *b, int i)
{
    struct dft_error e = {0};
    const char *text = (const char *)b->data;
    const char *sep = strstr(text, "\n\n");
    assert_non_null(sep);
    assert_int_equal(note_cosign_line(b, text, (size_t)(sep - text) + 1, f->w[i].name, f->w[i].sk,
                                      TS + (uint64_t)i, &e),
                     DFT_OK);
}

static enum dft_err
import(struct fixture *f, const struct dft_buf *b, struct witness_import *res, struct dft_error *e)
{
    struct dft_witness_set ws;
    load(f, &ws);
    return witness_import(vault_db(f->v), vault_keys(f->v)->sign_pk, &ws, (const char *)b->data,
                          b->len, res, e);
}

static json_t *
report(struct fixture *f)
{
    struct dft_witness_set ws;
    struct dft_error e = {0};
    json_t *r = NULL;
    load(f, &ws);
    assert_int_equal(witness_check(vault_db(f->v), vault_keys(f->v)->sign_pk, &ws, &r, &e), DFT_OK);
    return r;
}

static int64_t
kept(struct fixture *f)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(f->v),
                                        "SELECT count(*) || ':' || coalesce(sum(length(note)), 0)"
                                        " FROM tlog_cosigned",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0) * 1000000 +
                atoll(strchr((const char *)sqlite3_column_text(st, 0), ':') + 1);
    sqlite3_finalize(st);
    return n;
}

static void
test_witness__add_and_policy_ops_are_checked(void **state)
{
    struct fixture *f = *state;
    struct dft_witness_set ws;
    struct dft_error e = {0};
    json_t *op = NULL;
    char logkey[DFT_NOTE_VKEY_MAX];
    struct dft_note_verifier lv;
    load(f, &ws);
    assert_int_equal(ws.n, 0);
    assert_int_equal(ws.policy, 0);
    tlog_log_verifier(&lv, vault_keys(f->v)->sign_pk);
    note_verifier_format(&lv, logkey);
    assert_int_equal(witness_add_op(&ws, logkey, &op, &e), DFT_ERR_INPUT);
    assert_int_equal(witness_add_op(&ws, "nope", &op, &e), DFT_ERR_INPUT);
    assert_int_equal(witness_policy_op(&ws, 1, &op, &e), DFT_ERR_INPUT);
    trust(f, 0);
    trust(f, 1);
    load(f, &ws);
    assert_int_equal(ws.n, 2);
    assert_string_equal(ws.keys[1].name, "witness.example/two");
    assert_int_equal(witness_add_op(&ws, f->w[0].vkey, &op, &e), DFT_ERR_INPUT);
    assert_int_equal(witness_policy_op(&ws, 3, &op, &e), DFT_ERR_INPUT);
    set_policy(f, 2);
    load(f, &ws);
    assert_int_equal(ws.policy, 2);
    /* Room for DFT_WITNESS_MAX, not one more. */
    for (int i = 2; i < DFT_WITNESS_MAX; i++) {
        struct witness w;
        char name[32];
        snprintf(name, sizeof name, "w.example/%d", i);
        make_witness(&w, name, (unsigned char)(10 + i));
        assert_int_equal(witness_add_op(&ws, w.vkey, &op, &e), DFT_OK);
        ws.keys[ws.n++].key_id = 0; /* only the count matters below */
        json_decref(op);
    }
    assert_int_equal(witness_add_op(&ws, f->w[2].vkey, &op, &e), DFT_ERR_TOO_LARGE);
}

static void
test_witness__bad_logged_operation_is_integrity(void **state)
{
    struct fixture *f = *state;
    struct dft_witness_set ws;
    struct dft_error e = {0};
    trust(f, 0);
    append_op(f, json_pack("{sssss{ss}}", "record", DFT_WITNESS_RECORD, "action", "witness_add",
                           "fields", "vkey", "garbage"));
    assert_int_equal(vault_witness_set(f->v, &ws, &e), DFT_ERR_INTEGRITY);
}

static void
test_witness__impossible_logged_policy_is_integrity(void **state)
{
    struct fixture *f = *state;
    struct dft_witness_set ws;
    struct dft_error e = {0};
    trust(f, 0);
    append_op(f, json_pack("{sssss{si}}", "record", DFT_WITNESS_RECORD, "action", "witness_policy",
                           "fields", "k", 2));
    assert_int_equal(vault_witness_set(f->v, &ws, &e), DFT_ERR_INTEGRITY);
}

static void
test_witness__import_merges_and_meets_the_policy(void **state)
{
    struct fixture *f = *state;
    struct witness_import res;
    struct dft_error e = {0};
    struct dft_buf a, b;
    add_records(f, 3);
    trust(f, 0);
    trust(f, 1);
    trust(f, 2);
    set_policy(f, 2);
    json_t *r = report(f);
    assert_false(json_is_true(json_object_get(r, "policy_met")));
    assert_true(json_is_null(json_object_get(r, "latest")));
    json_decref(r);
    uint64_t size = 0;
    assert_int_equal(tlog_size(vault_db(f->v), &size, &e), DFT_OK);
    checkpoint(f, size, NULL, &a);
    checkpoint(f, size, NULL, &b);
    cosign(f, &a, 0);
    cosign(f, &a, 3); /* a stranger's line is ignored and not kept */
    cosign(f, &b, 2);
    assert_int_equal(import(f, &a, &res, &e), DFT_OK);
    assert_int_equal(res.size, size);
    assert_int_equal(res.cosignatures, 1);
    assert_int_equal(import(f, &b, &res, &e), DFT_OK);
    assert_int_equal(res.cosignatures, 2);
    assert_int_equal(res.added, 1);
    assert_int_equal(import(f, &a, &res, &e), DFT_OK);
    assert_int_equal(res.added, 0);
    add_records(f, 2); /* the kept checkpoint stays consistent with a larger tree */
    r = report(f);
    assert_true(json_is_true(json_object_get(r, "policy_met")));
    json_t *latest = json_object_get(r, "latest");
    assert_int_equal(json_integer_value(json_object_get(latest, "size")), (json_int_t)size);
    assert_int_equal(json_integer_value(json_object_get(latest, "cosignatures")), 2);
    json_t *by = json_object_get(latest, "cosigned_by");
    assert_string_equal(json_string_value(json_object_get(json_array_get(by, 0), "name")),
                        "witness.example/one");
    assert_string_equal(json_string_value(json_object_get(json_array_get(by, 1), "name")),
                        "witness.example/three");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(by, 1), "timestamp")),
                     TS + 2);
    json_decref(r);
    /* The kept note holds the log's line and the two trusted cosignatures only. */
    struct dft_witness_set ws;
    struct dft_buf out;
    struct dft_note n;
    load(f, &ws);
    dft_buf_init(&out, DFT_NOTE_MAX_BYTES, 0);
    assert_int_equal(witness_latest(vault_db(f->v), vault_keys(f->v)->sign_pk, &ws, &out, &e),
                     DFT_OK);
    assert_int_equal(note_parse(&n, (const char *)out.data, out.len, &e), DFT_OK);
    assert_int_equal(n.nsigs, 3);
    note_release(&n);
    dft_buf_release(&out);
    dft_buf_release(&a);
    dft_buf_release(&b);
}

static void
test_witness__import_refusals_store_nothing(void **state)
{
    struct fixture *f = *state;
    struct witness_import res;
    struct dft_error e = {0};
    struct dft_buf good, x;
    uint64_t size = 0;
    add_records(f, 4);
    /* Before any witness is trusted. */
    assert_int_equal(tlog_size(vault_db(f->v), &size, &e), DFT_OK);
    checkpoint(f, size, NULL, &good);
    cosign(f, &good, 0);
    assert_int_equal(import(f, &good, &res, &e), DFT_ERR_INPUT);
    dft_buf_release(&good);
    trust(f, 0);
    trust(f, 1);
    assert_int_equal(tlog_size(vault_db(f->v), &size, &e), DFT_OK);
    checkpoint(f, size, NULL, &good);
    cosign(f, &good, 0);
    assert_int_equal(import(f, &good, &res, &e), DFT_OK);
    int64_t before = kept(f);

    /* Only a stranger's cosignature, or none. */
    checkpoint(f, size, NULL, &x);
    assert_int_equal(import(f, &x, &res, &e), DFT_ERR_INPUT);
    cosign(f, &x, 3);
    dft_error_clear(&e);
    assert_int_equal(import(f, &x, &res, &e), DFT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "no cosignature by a trusted witness"));
    dft_buf_release(&x);
    /* Every truncation of a good note is refused (input or integrity, never stored). */
    for (size_t cut = 0; cut < good.len; cut += 7) {
        struct dft_buf t = good;
        t.len = cut;
        enum dft_err rc = import(f, &t, &res, &e);
        assert_true(rc == DFT_ERR_INPUT || rc == DFT_ERR_INTEGRITY);
    }
    /* Every flipped bit in the signature lines: a forged line of a known key is integrity. */
    const char *sep = strstr((const char *)good.data, "\n\n");
    for (size_t i = (size_t)(sep - (const char *)good.data) + 2; i < good.len; i += 3) {
        struct dft_buf t;
        dft_buf_init(&t, DFT_NOTE_MAX_BYTES, 0);
        assert_int_equal(dft_buf_add(&t, good.data, good.len), DFT_OK);
        t.data[i] ^= 0x01;
        enum dft_err rc = import(f, &t, &res, &e);
        if (rc == DFT_OK) {
            fail_msg("a flipped byte at %zu was accepted", i);
        }
        dft_buf_release(&t);
    }
    /* Beyond the tree, and another root at a size it has. */
    unsigned char fake[32];
    memset(fake, 0x42, sizeof fake);
    checkpoint(f, size + 1, fake, &x);
    cosign(f, &x, 1);
    dft_error_clear(&e);
    assert_int_equal(import(f, &x, &res, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "beyond its log"));
    dft_buf_release(&x);
    checkpoint(f, size - 1, fake, &x);
    cosign(f, &x, 1);
    dft_error_clear(&e);
    assert_int_equal(import(f, &x, &res, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "inconsistent with the log"));
    dft_buf_release(&x);
    /* Another log's checkpoint. */
    struct dft_checkpoint c;
    unsigned char opk[32], osk[64];
    crypto_sign_keypair(opk, osk);
    memset(&c, 0, sizeof c);
    tlog_origin(c.origin, opk);
    c.size = 1;
    dft_buf_init(&x, DFT_NOTE_MAX_BYTES, 0);
    assert_int_equal(checkpoint_sign(&x, &c, osk, &e), DFT_OK);
    cosign(f, &x, 0);
    dft_error_clear(&e);
    assert_int_equal(import(f, &x, &res, &e), DFT_ERR_INPUT);
    assert_non_null(strstr(e.msg, "another log"));
    dft_buf_release(&x);
    assert_int_equal(kept(f), before);
    dft_buf_release(&good);
}

static void
test_witness__verify_catches_a_kept_note_that_changed(void **state)
{
    struct fixture *f = *state;
    struct witness_import res;
    struct dft_witness_set ws;
    struct dft_error e = {0};
    struct dft_buf good, forged;
    json_t *r = NULL;
    uint64_t size = 0;
    add_records(f, 5);
    trust(f, 0);
    assert_int_equal(tlog_size(vault_db(f->v), &size, &e), DFT_OK);
    checkpoint(f, size, NULL, &good);
    cosign(f, &good, 0);
    assert_int_equal(import(f, &good, &res, &e), DFT_OK);
    load(f, &ws);
    sqlite3 *db = vault_db(f->v);
    const unsigned char *pk = vault_keys(f->v)->sign_pk;

    /* A validly signed note of another history at a size the tree has: a fork. */
    unsigned char fake[32];
    memset(fake, 0x17, sizeof fake);
    checkpoint(f, 3, fake, &forged);
    cosign(f, &forged, 0);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO tlog_cosigned(size, note, imported)"
                                        " VALUES (3, ?1, 'x')",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, forged.data, (int)forged.len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(witness_check(db, pk, &ws, &r, &e), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "inconsistent"));
    assert_int_equal(store_exec(db, "DELETE FROM tlog_cosigned WHERE size = 3", &e), DFT_OK);
    assert_int_equal(witness_check(db, pk, &ws, &r, &e), DFT_OK);
    json_decref(r);
    r = NULL;

    /* A flipped byte in the kept cosignature. */
    assert_int_equal(store_exec(db,
                                "UPDATE tlog_cosigned SET note = substr(note, 1, length(note)"
                                " - 6) || 'AAAA=\n' WHERE size > 3",
                                &e),
                     DFT_OK);
    dft_error_clear(&e);
    assert_int_equal(witness_check(db, pk, &ws, &r, &e), DFT_ERR_INTEGRITY);
    /* ...and through the whole verify. */
    dft_error_clear(&e);
    assert_int_equal(dft_vault_verify(f->v, 0, &r, &e), DFT_ERR_INTEGRITY);
    dft_buf_release(&good);
    dft_buf_release(&forged);
}

/* The policy file's text kept beside the log must be the one the latest policy op signed. */
static void
test_witness__kept_policy_text_must_match_the_signed_hash(void **state)
{
    struct fixture *f = *state;
    struct dft_witness_set ws;
    struct dft_error e = {0};
    json_t *op = NULL, *out = NULL;
    unsigned char sha[32];
    static const char signed_text[] = "log defter.vault/x\n";
    static const char other_text[] = "quorum none\n";
    trust(f, 0);
    load(f, &ws);
    crypto_hash_sha256(sha, (const unsigned char *)signed_text, sizeof signed_text - 1);
    assert_int_equal(witness_policy_text_op(&ws, 1, sha, &op, &e), DFT_OK);
    append_op(f, op);
    load(f, &ws);
    assert_true(ws.has_policy_text);
    assert_memory_equal(ws.policy_sha256, sha, 32);
    /* someone with the database changes the kept text: seen, not used */
    assert_int_equal(wclient_policy_set(vault_db(f->v), other_text, sizeof other_text - 1, &e),
                     DFT_OK);
    assert_int_equal(dft_vault_witness_policy_text(f->v, NULL, 0, &out, &e), DFT_ERR_INTEGRITY);
    assert_null(out);
    assert_non_null(strstr(e.msg, "not the one the log signed"));
    /* a policy op without a text hash (vaults from before) leaves the kept text as it is */
    set_policy(f, 1);
    load(f, &ws);
    assert_false(ws.has_policy_text);
    e = (struct dft_error){0};
    assert_int_equal(dft_vault_witness_policy_text(f->v, NULL, 0, &out, &e), DFT_OK);
    json_decref(out);
    /* a malformed hash in a logged op is damage */
    append_op(f, json_pack("{sssss{sIss}}", "record", DFT_WITNESS_RECORD, "action",
                           "witness_policy", "fields", "k", (json_int_t)1, "text_sha256", "zz"));
    assert_int_equal(vault_witness_set(f->v, &ws, &e), DFT_ERR_INTEGRITY);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_witness__add_and_policy_ops_are_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_witness__bad_logged_operation_is_integrity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_witness__impossible_logged_policy_is_integrity, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_witness__import_merges_and_meets_the_policy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_witness__import_refusals_store_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_witness__verify_catches_a_kept_note_that_changed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_witness__kept_policy_text_must_match_the_signed_hash,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
