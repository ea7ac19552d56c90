/*
 * test_privileged.c - privileged notes sealed to the author's X25519 key: the author reads them,
 * another member holding the collection key (here: the same envelope read with another box key)
 * sees only the placeholder, search never finds the text, a disclosure of the sealed operation
 * verifies, and damaged, moved or forged boxes and forbidden edits are refused with one message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "defter/vault.h"
#include "vault/envelope.h"
#include "vault/export.h"
#include "vault/privileged.h"
#include "vault/vault_internal.h"

static const char pass[] = "privileged test passphrase";
static const char marker[] = "Qpmarker attorney strategy";

struct fixture {
    char root[64];
    char dir[128];
    struct dft_vault *v;
    char note[DFT_ID_MAX];
};

static int
group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct dft_error err = {0};
    if (fx == NULL) {
        return -1;
    }
    snprintf(fx->root, sizeof fx->root, "/tmp/dft-priv-XXXXXX");
    if (mkdtemp(fx->root) == NULL) {
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "%s/a", fx->root);
    if (dft_vault_create(fx->dir, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK ||
        dft_vault_open(&fx->v, fx->dir, pass, strlen(pass), &err) != DFT_OK) {
        fprintf(stderr, "vault: %s\n", err.msg);
        return -1;
    }
    json_t *items = json_pack("[{sssssssb}]", "type", "note", "title", "Strategy", "text", marker,
                              "privileged", 1);
    json_t *ids = NULL;
    if (dft_vault_add(fx->v, items, &ids, &err) != DFT_OK) {
        fprintf(stderr, "add: %s\n", err.msg);
        return -1;
    }
    snprintf(fx->note, sizeof fx->note, "%s", json_string_value(json_array_get(ids, 0)));
    json_decref(items);
    json_decref(ids);
    *state = fx;
    return 0;
}

static int
group_teardown(void **state)
{
    struct fixture *fx = *state;
    dft_vault_close(fx->v);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->root);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", fx->root);
    }
    free(fx);
    return 0;
}

static int
has_marker(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    int found = s != NULL && strstr(s, "Qpmarker") != NULL;
    free(s);
    return found;
}

/* The create operation of the note, as every member holding the collection key reads it. */
static json_t *
note_op(struct fixture *fx)
{
    json_t *hist = NULL;
    struct dft_error err = {0};
    assert_int_equal(dft_vault_export_history(fx->v, fx->note, &hist, &err), DFT_OK);
    json_t *op = json_incref(json_object_get(json_array_get(hist, 0), "op"));
    json_decref(hist);
    return op;
}

/* The vault's keys with another member's box key: same collection key, another person. */
static struct dft_keys *
member_keys(struct fixture *fx)
{
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    memcpy(k, vault_keys(fx->v), sizeof *k);
    crypto_box_keypair(k->box_pk, k->box_sk);
    return k;
}

static void
test_privileged__author_reads_the_text(void **state)
{
    struct fixture *fx = *state;
    json_t *rec = NULL;
    struct dft_error err = {0};
    assert_int_equal(dft_vault_show(fx->v, fx->note, 0, &rec, &err), DFT_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "text")),
                        marker);
    assert_string_equal(json_string_value(json_object_get(rec, "title")), "Strategy");
    assert_true(json_is_true(json_object_get(json_object_get(rec, "privileged"), "readable")));
    json_decref(rec);
}

static void
test_privileged__envelope_and_ops_hold_no_text(void **state)
{
    struct fixture *fx = *state;
    json_t *op = note_op(fx);
    assert_false(has_marker(op));
    const json_t *fields = json_object_get(op, "fields");
    assert_int_equal(json_object_size(fields), 2); /* privileged and sealed, nothing else */
    assert_true(json_is_true(json_object_get(fields, "privileged")));
    assert_non_null(privileged_sealed(fields));
    json_decref(op);
    json_t *list = NULL;
    struct dft_error err = {0};
    assert_int_equal(dft_vault_list(fx->v, "note", &list, &err), DFT_OK);
    assert_false(has_marker(list));
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "title")),
                        PRIVILEGED_TITLE);
    json_decref(list);
}

static void
test_privileged__member_sees_only_the_placeholder(void **state)
{
    struct fixture *fx = *state;
    struct dft_keys *k = member_keys(fx);
    json_t *op = note_op(fx);
    json_t *opened = NULL;
    struct dft_error err = {0};
    assert_int_equal(privileged_open_op(k, op, &opened, NULL, &err), DFT_OK);
    assert_null(opened);
    /* the member's show of the record its view built from the same envelope */
    json_t *rec = json_pack("{ss ss sO s[O]}", "id", fx->note, "type", "note", "fields",
                            json_object_get(op, "fields"), "history", op);
    assert_int_equal(privileged_show(k, rec, &err), DFT_OK);
    assert_false(has_marker(rec));
    assert_false(json_is_true(json_object_get(json_object_get(rec, "privileged"), "readable")));
    assert_int_equal(json_object_size(json_object_get(rec, "fields")), 1);
    assert_string_equal(json_string_value(json_object_get(rec, "title")), PRIVILEGED_TITLE);
    json_decref(rec);
    json_decref(op);
    keys_free(k);
}

static void
test_privileged__search_never_finds_the_text(void **state)
{
    struct fixture *fx = *state;
    json_t *hits = NULL;
    struct dft_error err = {0};
    assert_int_equal(dft_vault_search(fx->v, "Qpmarker", NULL, 10, &hits, &err), DFT_OK);
    assert_int_equal(json_array_size(json_object_get(hits, "hits")), 0);
    json_decref(hits);
    assert_int_equal(dft_vault_search(fx->v, "attorney strategy", NULL, 10, &hits, &err), DFT_OK);
    assert_int_equal(json_array_size(json_object_get(hits, "hits")), 0);
    json_decref(hits);
    /* the stored index agrees with one rebuilt from the envelopes */
    json_t *report = NULL;
    assert_int_equal(dft_vault_verify(fx->v, 0, &report, &err), DFT_OK);
    json_decref(report);
}

static void
test_privileged__disclosures_verify(void **state)
{
    struct fixture *fx = *state;
    json_t *hist = NULL;
    struct dft_error err = {0};
    assert_int_equal(dft_vault_export_history(fx->v, fx->note, &hist, &err), DFT_OK);
    uint64_t index =
        (uint64_t)json_integer_value(json_object_get(json_array_get(hist, 0), "index"));
    json_decref(hist);
    struct dft_export_env *e = NULL;
    assert_int_equal(dft_vault_export_open(fx->v, index, &e, &err), DFT_OK);
    /* without opening: the sealed fields are withheld digests; it verifies */
    const char *plain[] = {"record", "type"};
    json_t *d = NULL, *revealed = NULL;
    assert_int_equal(dft_export_env_disclose(e, 0, plain, 2, &d, &err), DFT_OK);
    assert_int_equal(disclosure_verify(d, NULL, NULL, NULL, &err), DFT_OK);
    assert_false(has_marker(d));
    json_decref(d);
    /* opened by the author: the text is revealed provably */
    assert_int_equal(dft_export_env_unseal(fx->v, e, &err), DFT_OK);
    assert_non_null(dft_export_env_opened(e, 0));
    const char *names[] = {"record", "fields/text"};
    assert_int_equal(dft_export_env_disclose(e, 0, names, 2, &d, &err), DFT_OK);
    assert_int_equal(disclosure_verify(d, NULL, NULL, &revealed, &err), DFT_OK);
    assert_string_equal(json_string_value(json_object_get(revealed, "fields/text")), marker);
    json_decref(revealed);
    /* a changed revealed value fails */
    json_t *item = json_array_get(json_object_get(d, "revealed"), 1);
    json_object_set_new(item, "value", json_string("Qpmarker something else"));
    assert_int_equal(disclosure_verify(d, NULL, NULL, NULL, &err), DFT_ERR_INTEGRITY);
    json_decref(d);
    dft_export_env_free(e);
}

static void
test_privileged__damaged_or_moved_boxes_are_refused(void **state)
{
    struct fixture *fx = *state;
    const struct dft_keys *k = vault_keys(fx->v);
    json_t *opened = NULL;
    struct dft_error err = {0};
    /* one flipped character of the box */
    json_t *op = note_op(fx);
    json_t *sealed = json_object_get(json_object_get(op, "fields"), "sealed");
    char *box = strdup(json_string_value(json_object_get(sealed, "box")));
    box[10] = box[10] == 'A' ? 'B' : 'A';
    json_object_set_new(sealed, "box", json_string(box));
    free(box);
    assert_int_equal(privileged_open_op(k, op, &opened, NULL, &err), DFT_ERR_INTEGRITY);
    assert_null(opened);
    assert_non_null(strstr(err.msg, "damaged"));
    json_decref(op);
    /* the same box under another record */
    op = note_op(fx);
    json_object_set_new(op, "record", json_string("note_0000000000000000"));
    err.code = DFT_OK;
    err.msg[0] = '\0';
    assert_int_equal(privileged_open_op(k, op, &opened, NULL, &err), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(err.msg, "another record"));
    json_decref(op);
    /* digests that are not those of the sealed fields */
    op = note_op(fx);
    sealed = json_object_get(json_object_get(op, "fields"), "sealed");
    json_array_remove(json_object_get(sealed, "digests"), 0);
    err.code = DFT_OK;
    err.msg[0] = '\0';
    assert_int_equal(privileged_open_op(k, op, &opened, NULL, &err), DFT_ERR_INTEGRITY);
    assert_non_null(strstr(err.msg, "digests"));
    json_decref(op);
}

static void
test_privileged__edits(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    /* the author edits the text: sealed again, the new text shown, the old one gone */
    json_t *f = json_pack("{ss}", "text", "Qpmarker revised");
    assert_int_equal(dft_vault_edit(fx->v, fx->note, f, &err), DFT_OK);
    json_decref(f);
    json_t *rec = NULL;
    assert_int_equal(dft_vault_show(fx->v, fx->note, 0, &rec, &err), DFT_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "text")),
                        "Qpmarker revised");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"), "title")),
                        "Strategy");
    json_t *hist = json_object_get(rec, "history");
    assert_false(has_marker(hist));
    json_decref(rec);
    /* a privileged note stays privileged */
    f = json_pack("{sb}", "privileged", 0);
    assert_int_equal(dft_vault_edit(fx->v, fx->note, f, &err), DFT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "stays privileged"));
    json_decref(f);
    /* a note added in clear cannot become privileged: its text is in the history */
    json_t *items = json_pack("[{ssss}]", "type", "note", "text", "plain");
    json_t *ids = NULL;
    assert_int_equal(dft_vault_add(fx->v, items, &ids, &err), DFT_OK);
    f = json_pack("{sb}", "privileged", 1);
    memset(&err, 0, sizeof err);
    assert_int_equal(dft_vault_edit(fx->v, json_string_value(json_array_get(ids, 0)), f, &err),
                     DFT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "--privileged"));
    json_decref(f);
    json_decref(items);
    json_decref(ids);
    /* a record cannot carry a "sealed" object of its own making */
    items = json_pack("[{sss{si}}]", "type", "note", "text", "t", "sealed", "v", 1);
    assert_int_equal(dft_vault_add(fx->v, items, &ids, &err), DFT_ERR_INPUT);
    json_decref(items);
}

static void
test_privileged__note_of_another_member_cannot_be_edited(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    /* the view row as a synced note of another member would leave it: sealed to another key */
    unsigned char pk[DFT_BOX_PK_BYTES], sk[DFT_BOX_SK_BYTES];
    char pk_b64[dft_b64_len(DFT_BOX_PK_BYTES)];
    crypto_box_keypair(pk, sk);
    dft_b64_encode(pk_b64, pk, sizeof pk);
    json_t *items = json_pack("[{sssb}]", "type", "note", "privileged", 1);
    json_t *ids = NULL;
    assert_int_equal(dft_vault_add(fx->v, items, &ids, &err), DFT_OK);
    const char *id = json_string_value(json_array_get(ids, 0));
    json_t *rec = NULL;
    assert_int_equal(dft_vault_show(fx->v, id, 0, &rec, &err), DFT_OK);
    json_t *fields = json_deep_copy(
        json_object_get(json_array_get(json_object_get(rec, "history"), 0), "fields"));
    json_object_set_new(json_object_get(fields, "sealed"), "to", json_string(pk_b64));
    char *text = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(fx->v), "UPDATE records SET fields=? WHERE id=?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    json_t *f = json_pack("{ss}", "text", "mine now");
    memset(&err, 0, sizeof err);
    assert_int_equal(dft_vault_edit(fx->v, id, f, &err), DFT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "only its author"));
    json_decref(f);
    free(text);
    json_decref(fields);
    json_decref(rec);
    json_decref(items);
    json_decref(ids);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_privileged__author_reads_the_text),
        cmocka_unit_test(test_privileged__envelope_and_ops_hold_no_text),
        cmocka_unit_test(test_privileged__member_sees_only_the_placeholder),
        cmocka_unit_test(test_privileged__search_never_finds_the_text),
        cmocka_unit_test(test_privileged__disclosures_verify),
        cmocka_unit_test(test_privileged__damaged_or_moved_boxes_are_refused),
        cmocka_unit_test(test_privileged__edits),
        cmocka_unit_test(test_privileged__note_of_another_member_cannot_be_edited),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
