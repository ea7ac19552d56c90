/*
 * test_sync.c - the vault's side of team sync without a server: three member vaults and a
 * field device exchange wire entries through an in-test "server" (an array in log order).
 *
 * Converge in random sync orders (fixed seeds) to identical views and conflict lists; concurrent
 * writes raise a conflict listing both values and authors, which resolve clears; a delete
 * concurrent with an edit keeps the record; links are add-wins; bad entries (tampered,
 * truncated, wrong epoch key, an operation naming another author, a refused author) are
 * DFT_ERR_INTEGRITY with nothing merged; a field device pushes but opens nothing; no record text
 * reaches a wire body. Argon2id is slow: four template vaults per run, copied for each test.
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
#include "defter/vault_sync.h"
#include "defter/vault.h"
#include "vault/envelope.h"
#include "vault/vault_internal.h"

static const char pass[] = "sync test passphrase";

#define NV         4 /* A, B, C members; F a field device */
#define FIELD      3
#define SERVER_MAX 4096

struct server {
    unsigned char *body[SERVER_MAX];
    size_t len[SERVER_MAX];
    size_t n;
};

struct fixture {
    char root[64];
    char tmpl[NV][128];
    char dir[NV][128];
    struct dft_vault *v[NV];
    size_t pulled[NV]; /* next server index each vault pulls */
    int copies;
    struct server srv;
    struct dft_sync_keyring ring;  /* members: the epoch's secrets */
    struct dft_sync_keyring fring; /* field device: the drop public key only */
    unsigned char authors[NV][32];
};

static int
group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct dft_error err = {0};
    if (fx == NULL || sodium_init() < 0) {
        return -1;
    }
    snprintf(fx->root, sizeof fx->root, "/tmp/dft-sync-XXXXXX");
    if (mkdtemp(fx->root) == NULL) {
        return -1;
    }
    for (int i = 0; i < NV; i++) {
        char root[64];
        memcpy(root, fx->root, sizeof root);
        snprintf(fx->tmpl[i], sizeof fx->tmpl[i], "%s/template%d", root, i);
        if (dft_vault_create(fx->tmpl[i], pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) !=
            DFT_OK) {
            fprintf(stderr, "create: %s\n", err.msg);
            return -1;
        }
    }
    /* one epoch: members hold its secrets, the field device its drop public key only */
    fx->ring.count = fx->fring.count = 1;
    fx->ring.epochs = sodium_malloc(sizeof *fx->ring.epochs);
    fx->fring.epochs = sodium_malloc(sizeof *fx->fring.epochs);
    if (fx->ring.epochs == NULL || fx->fring.epochs == NULL) {
        return -1;
    }
    struct dft_sync_epoch *e = fx->ring.epochs;
    memset(e, 0, sizeof *e);
    e->epoch = 7;
    e->has_secret = 1;
    randombytes_buf(e->ck, sizeof e->ck);
    crypto_box_keypair(e->drop_pk, e->drop_sk);
    memset(fx->fring.epochs, 0, sizeof *fx->fring.epochs);
    fx->fring.epochs->epoch = 7;
    memcpy(fx->fring.epochs->drop_pk, e->drop_pk, sizeof e->drop_pk);
    *state = fx;
    return 0;
}

static int
group_teardown(void **state)
{
    struct fixture *fx = *state;
    rm_rf(fx->root);
    dft_sync_keyring_free(&fx->ring);
    dft_sync_keyring_free(&fx->fring);
    free(fx);
    return 0;
}

static int
setup(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    for (int i = 0; i < NV; i++) {
        if (vault_copy_open(fx->root, fx->tmpl[i], &fx->copies, fx->dir[i], sizeof fx->dir[i], pass,
                            &fx->v[i]) != 0) {
            return -1;
        }
        memcpy(fx->authors[i], vault_keys(fx->v[i])->sign_pk, 32);
        fx->pulled[i] = 0;
        if (dft_vault_sync_keys_put(fx->v[i], i == FIELD ? &fx->fring : &fx->ring, &err) !=
            DFT_OK) {
            fprintf(stderr, "keys: %s\n", err.msg);
            return -1;
        }
    }
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < NV; i++) {
        vault_copy_close(&fx->v[i], fx->dir[i]);
    }
    for (size_t i = 0; i < fx->srv.n; i++) {
        free(fx->srv.body[i]);
    }
    fx->srv.n = 0;
    return 0;
}

/* ---- the in-test server and engine ---- */

struct push_ctx {
    struct fixture *fx;
    struct dft_vault *v;
};

static int
push_one(void *ctx, uint64_t local_index, const unsigned char *body, size_t n)
{
    struct push_ctx *pc = ctx;
    struct server *s = &pc->fx->srv;
    assert_true(s->n < SERVER_MAX);
    s->body[s->n] = malloc(n);
    assert_non_null(s->body[s->n]);
    memcpy(s->body[s->n], body, n);
    s->len[s->n] = n;
    assert_int_equal(dft_vault_sync_acked(pc->v, local_index, s->n, NULL), DFT_OK);
    s->n++;
    return 0;
}

/* Authors allowed: the four vaults; refuse / hold one key when set. */
struct authors {
    struct fixture *fx;
    const unsigned char *refuse;
    const unsigned char *hold;
};

static int
author_ok(void *ctx, const unsigned char author[32], uint64_t index)
{
    struct authors *a = ctx;
    (void)index;
    if (a->refuse != NULL && memcmp(author, a->refuse, 32) == 0) {
        return 1;
    }
    if (a->hold != NULL && memcmp(author, a->hold, 32) == 0) {
        return 2;
    }
    for (int i = 0; i < NV; i++) {
        if (memcmp(author, a->fx->authors[i], 32) == 0) {
            return 0;
        }
    }
    return 1;
}

static void
push(struct fixture *fx, int i)
{
    struct push_ctx pc = {fx, fx->v[i]};
    struct dft_error err = {0};
    enum dft_err rc = dft_vault_sync_outbox(fx->v[i], i == FIELD ? &fx->fring : &fx->ring, 1000,
                                            push_one, &pc, &err);
    if (rc != DFT_OK) {
        print_error("outbox: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
}

static enum dft_err
pull_with(struct fixture *fx, int i, struct authors *a, json_t **report, struct dft_error *err)
{
    size_t from = fx->pulled[i], n = fx->srv.n - from;
    struct dft_sync_entry *e = calloc(n + 1, sizeof *e);
    assert_non_null(e);
    for (size_t k = 0; k < n; k++) {
        e[k].index = from + k;
        e[k].body = fx->srv.body[from + k];
        e[k].len = fx->srv.len[from + k];
    }
    enum dft_err rc = dft_vault_sync_apply(fx->v[i], e, n, &fx->ring, author_ok, a, report, err);
    if (rc == DFT_OK) {
        fx->pulled[i] = fx->srv.n;
    }
    free(e);
    return rc;
}

static void
pull(struct fixture *fx, int i)
{
    struct authors a = {fx, NULL, NULL};
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = pull_with(fx, i, &a, &report, &err);
    if (rc != DFT_OK) {
        print_error("apply: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    json_decref(report);
}

static void
sync_one(struct fixture *fx, int i)
{
    push(fx, i);
    pull(fx, i);
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
    snprintf(id, DFT_ID_MAX, "%s", json_string_value(json_array_get(ids, 0)));
    json_decref(ids);
    json_decref(items);
}

static void
edit(struct dft_vault *v, const char *id, const char *field, const char *value)
{
    struct dft_error err = {0};
    json_t *f = json_pack("{ss}", field, value);
    enum dft_err rc = dft_vault_edit(v, id, f, &err);
    if (rc != DFT_OK) {
        print_error("edit: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    json_decref(f);
}

/* The part of the view every member must agree on: live records with relations, evidence. */
static char *
view_text(struct dft_vault *v)
{
    json_t *l = NULL;
    assert_int_equal(dft_vault_list(v, NULL, &l, NULL), DFT_OK);
    size_t i;
    json_t *r;
    json_array_foreach(l, i, r)
    {
        json_t *s = NULL;
        assert_int_equal(
            dft_vault_show(v, json_string_value(json_object_get(r, "id")), 0, &s, NULL), DFT_OK);
        json_object_set(r, "relations", json_object_get(s, "relations"));
        json_object_set(r, "evidence", json_object_get(s, "evidence"));
        json_decref(s);
    }
    char *t = json_dumps(l, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(l);
    return t;
}

static json_t *
conflicts(struct dft_vault *v)
{
    json_t *c = NULL;
    struct dft_error err = {0};
    enum dft_err rc = dft_vault_conflicts(v, &c, &err);
    if (rc != DFT_OK) {
        print_error("conflicts: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    return c;
}

static void
assert_same_views(struct fixture *fx, int n)
{
    char *first = view_text(fx->v[0]);
    json_t *c0 = conflicts(fx->v[0]);
    for (int i = 1; i < n; i++) {
        char *t = view_text(fx->v[i]);
        json_t *c = conflicts(fx->v[i]);
        if (strcmp(first, t) != 0) {
            print_error("vault 0: %s\nvault %d: %s\n", first, i, t);
        }
        assert_string_equal(first, t);
        assert_true(json_equal(c0, c));
        free(t);
        json_decref(c);
    }
    free(first);
    json_decref(c0);
}

static const char *
field_of(struct dft_vault *v, const char *id, const char *field)
{
    static char buf[256];
    json_t *s = NULL;
    assert_int_equal(dft_vault_show(v, id, 0, &s, NULL), DFT_OK);
    const char *x = json_string_value(json_object_get(json_object_get(s, "fields"), field));
    snprintf(buf, sizeof buf, "%s", x != NULL ? x : "(none)");
    json_decref(s);
    return buf;
}

static int
is_deleted(struct dft_vault *v, const char *id)
{
    json_t *s = NULL;
    assert_int_equal(dft_vault_show(v, id, 0, &s, NULL), DFT_OK);
    int d = json_is_true(json_object_get(s, "deleted"));
    json_decref(s);
    return d;
}

/* ---- tests ---- */

static void
test_sync__state_keys_sign_unseal(void **state)
{
    struct fixture *fx = *state;
    struct dft_vault *v = fx->v[0];
    struct dft_error err = {0};
    json_t *st = NULL;
    assert_int_equal(dft_vault_sync_state_get(v, &st, NULL), DFT_ERR_NOT_FOUND);
    json_t *put = json_pack("{sssi}", "server", "http://127.0.0.1:1", "role", 1);
    assert_int_equal(dft_vault_sync_state_put(v, put, &err), DFT_OK);
    assert_int_equal(dft_vault_sync_state_get(v, &st, &err), DFT_OK);
    assert_true(json_equal(st, put));
    json_decref(st);
    json_decref(put);
    json_t *one = json_integer(1);
    assert_int_equal(dft_vault_sync_state_put(v, one, NULL), DFT_ERR_INPUT);
    json_decref(one);

    struct dft_sync_keyring got = {0, NULL};
    assert_int_equal(dft_vault_sync_keys_get(v, &got, &err), DFT_OK);
    assert_int_equal(got.count, 1);
    assert_int_equal(got.epochs[0].epoch, 7);
    assert_true(got.epochs[0].has_secret);
    assert_memory_equal(got.epochs[0].ck, fx->ring.epochs[0].ck, 32);
    assert_memory_equal(got.epochs[0].drop_sk, fx->ring.epochs[0].drop_sk, 32);
    dft_sync_keyring_free(&got);
    assert_null(got.epochs);
    assert_int_equal(dft_vault_sync_keys_get(fx->v[FIELD], &got, &err), DFT_OK);
    assert_false(got.epochs[0].has_secret);
    dft_sync_keyring_free(&got);

    static const unsigned char msg[] = "defter/test\nsigned";
    unsigned char sig[64];
    assert_int_equal(dft_vault_sign(v, msg, sizeof msg, sig, &err), DFT_OK);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg, fx->authors[0]), 0);

    unsigned char sealed[crypto_box_SEALBYTES + 32], key[32], out[32];
    randombytes_buf(key, sizeof key);
    crypto_box_seal(sealed, key, sizeof key, vault_keys(v)->box_pk);
    assert_int_equal(dft_vault_unseal(v, sealed, sizeof sealed, out, &err), DFT_OK);
    assert_memory_equal(out, key, 32);
    assert_int_equal(dft_vault_unseal(fx->v[1], sealed, sizeof sealed, out, NULL),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(dft_vault_unseal(v, sealed, 10, out, NULL), DFT_ERR_INPUT);
}

static void
test_sync__push_pull_own_entries_once(void **state)
{
    struct fixture *fx = *state;
    char a[DFT_ID_MAX], b[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Ayşe\"}", a);
    add_one(fx->v[0], "{\"type\":\"case\",\"title\":\"Case one\"}", b);
    sync_one(fx, 0);
    assert_int_equal(fx->srv.n, 2);
    sync_one(fx, 0); /* nothing new to push; own entries come back and are recognised */
    assert_int_equal(fx->srv.n, 2);
    sync_one(fx, 1);
    assert_same_views(fx, 2);
    assert_string_equal(field_of(fx->v[1], a, "name"), "Ayşe");
    vault_assert_verifies(fx->v[0]);
    vault_assert_verifies(fx->v[1]);
    /* pulling the same entries again changes nothing */
    fx->pulled[1] = 0;
    pull(fx, 1);
    assert_same_views(fx, 2);
    vault_assert_verifies(fx->v[1]);
    /* B edits A's record; it reaches A */
    edit(fx->v[1], a, "name", "Ayşe Seitova");
    sync_one(fx, 1);
    sync_one(fx, 0);
    assert_string_equal(field_of(fx->v[0], a, "name"), "Ayşe Seitova");
    json_t *c = conflicts(fx->v[0]);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    assert_same_views(fx, 2);
    vault_assert_verifies(fx->v[0]);
}

static void
test_sync__concurrent_edits_conflict_then_resolve(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char id[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Emine\"}", id);
    sync_one(fx, 0);
    sync_one(fx, 1);
    edit(fx->v[0], id, "name", "Emine A");
    edit(fx->v[1], id, "name", "Emine B");
    sync_one(fx, 0);
    pull(fx, 1); /* B pulls before it pushes: A's write goes before B's unpushed one */
    assert_string_equal(field_of(fx->v[1], id, "name"), "Emine B");
    json_t *pending = conflicts(fx->v[1]);
    assert_int_equal(json_array_size(pending), 1);
    assert_true(json_is_null(json_object_get(
        json_array_get(json_object_get(json_array_get(pending, 0), "values"), 1), "index")));
    json_decref(pending);
    vault_assert_verifies(fx->v[1]);
    sync_one(fx, 1);
    sync_one(fx, 0);
    /* B's write was logged later: it shows on both */
    assert_string_equal(field_of(fx->v[0], id, "name"), "Emine B");
    assert_same_views(fx, 2);
    json_t *c = conflicts(fx->v[0]);
    assert_int_equal(json_array_size(c), 1);
    json_t *c1 = json_array_get(c, 0);
    assert_string_equal(json_string_value(json_object_get(c1, "record")), id);
    assert_string_equal(json_string_value(json_object_get(c1, "field")), "name");
    json_t *vals = json_object_get(c1, "values");
    assert_int_equal(json_array_size(vals), 2);
    char a64[64], b64[64];
    dft_b64_encode(a64, fx->authors[0], 32);
    dft_b64_encode(b64, fx->authors[1], 32);
    assert_string_equal(json_string_value(json_object_get(json_array_get(vals, 0), "value")),
                        "Emine A");
    assert_string_equal(json_string_value(json_object_get(json_array_get(vals, 0), "author")), a64);
    assert_string_equal(json_string_value(json_object_get(json_array_get(vals, 1), "value")),
                        "Emine B");
    assert_string_equal(json_string_value(json_object_get(json_array_get(vals, 1), "author")), b64);
    assert_true(json_is_integer(json_object_get(json_array_get(vals, 0), "index")));
    json_decref(c);
    /* an unrelated field is not a conflict to resolve */
    json_t *val = json_string("Emine Q");
    assert_int_equal(dft_vault_resolve(fx->v[1], id, "birth_date", val, NULL, NULL),
                     DFT_ERR_NOT_FOUND);
    json_t *out = NULL;
    assert_int_equal(dft_vault_resolve(fx->v[1], id, "name", val, &out, &err), DFT_OK);
    json_decref(out);
    json_decref(val);
    c = conflicts(fx->v[1]);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    sync_one(fx, 1);
    sync_one(fx, 0);
    c = conflicts(fx->v[0]);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    assert_string_equal(field_of(fx->v[0], id, "name"), "Emine Q");
    assert_same_views(fx, 2);
    vault_assert_verifies(fx->v[0]);
    vault_assert_verifies(fx->v[1]);
}

static void
test_sync__delete_concurrent_with_edit_keeps_record(void **state)
{
    struct fixture *fx = *state;
    char id[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"event\",\"title\":\"Search of a home\"}", id);
    sync_one(fx, 0);
    sync_one(fx, 1);
    assert_int_equal(dft_vault_delete(fx->v[0], id, NULL), DFT_OK);
    edit(fx->v[1], id, "date", "2026-05-01");
    sync_one(fx, 0);
    sync_one(fx, 1);
    sync_one(fx, 0);
    assert_false(is_deleted(fx->v[0], id));
    assert_false(is_deleted(fx->v[1], id));
    assert_string_equal(field_of(fx->v[0], id, "date"), "2026-05-01");
    assert_same_views(fx, 2);
    json_t *c = conflicts(fx->v[0]);
    assert_int_equal(json_array_size(c), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "field")),
                        "_deleted");
    json_decref(c);
    vault_assert_verifies(fx->v[0]);
    vault_assert_verifies(fx->v[1]);
    /* resolved as deleted: gone on both, no conflict */
    assert_int_equal(dft_vault_resolve(fx->v[1], id, "_deleted", json_true(), NULL, NULL), DFT_OK);
    sync_one(fx, 1);
    sync_one(fx, 0);
    assert_true(is_deleted(fx->v[0], id));
    c = conflicts(fx->v[0]);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    assert_same_views(fx, 2);
    vault_assert_verifies(fx->v[0]);
}

static void
test_sync__links_are_add_wins(void **state)
{
    struct fixture *fx = *state;
    char p[DFT_ID_MAX], q[DFT_ID_MAX], k[DFT_ID_MAX], l0[DFT_ID_MAX], l1[DFT_ID_MAX],
        l2[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Server\"}", p);
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Nariman\"}", q);
    add_one(fx->v[0], "{\"type\":\"case\",\"title\":\"Hizb case\"}", k);
    assert_int_equal(dft_vault_link(fx->v[0], p, k, "victim", l0, NULL), DFT_OK);
    sync_one(fx, 0);
    sync_one(fx, 1);
    /* A removes the old link and adds one; B adds another and deletes q, which A links */
    assert_int_equal(dft_vault_delete(fx->v[0], l0, NULL), DFT_OK);
    assert_int_equal(dft_vault_link(fx->v[0], q, k, "witness", l1, NULL), DFT_OK);
    assert_int_equal(dft_vault_link(fx->v[1], p, k, "lawyer", l2, NULL), DFT_OK);
    assert_int_equal(dft_vault_delete(fx->v[1], q, NULL), DFT_OK);
    sync_one(fx, 1);
    sync_one(fx, 0);
    sync_one(fx, 1);
    assert_same_views(fx, 2);
    json_t *s = NULL;
    assert_int_equal(dft_vault_show(fx->v[0], k, 0, &s, NULL), DFT_OK);
    json_t *rel = json_object_get(s, "relations");
    assert_int_equal(json_array_size(rel), 2); /* l1 and l2; l0 removed */
    json_decref(s);
    assert_false(is_deleted(fx->v[0], q)); /* the link to it was concurrent with its delete */
    vault_assert_verifies(fx->v[0]);
    vault_assert_verifies(fx->v[1]);
}

/* A wire entry signed by `signer` holding ops (author fields as given), sealed under ck. */
static void
forge(struct fixture *fx, struct dft_vault *signer, json_t *ops, const unsigned char *ck,
      unsigned char **body, size_t *n)
{
    struct dft_keys *k = keys_new();
    assert_non_null(k);
    memcpy(k->sign_sk, vault_keys(signer)->sign_sk, sizeof k->sign_sk);
    memcpy(k->sign_pk, vault_keys(signer)->sign_pk, sizeof k->sign_pk);
    memcpy(k->seal_key, ck, 32);
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, NULL), DFT_OK);
    *n = 5 + env.len;
    *body = malloc(*n);
    assert_non_null(*body);
    dft_be_put(*body, fx->ring.epochs[0].epoch, 4);
    (*body)[4] = 0;
    memcpy(*body + 5, env.data, env.len);
    dft_buf_release(&env);
    keys_free(k);
}

static void
server_add(struct fixture *fx, unsigned char *body, size_t n)
{
    fx->srv.body[fx->srv.n] = body;
    fx->srv.len[fx->srv.n] = n;
    fx->srv.n++;
}

/* Pull that must fail with DFT_ERR_INTEGRITY and leave B's view and verify as they were. */
static void
assert_refused(struct fixture *fx, struct authors *a)
{
    struct dft_error err = {0};
    char *before = view_text(fx->v[1]);
    size_t from = fx->pulled[1];
    json_t *report = NULL;
    assert_int_equal(pull_with(fx, 1, a, &report, &err), DFT_ERR_INTEGRITY);
    assert_null(report);
    assert_int_equal(fx->pulled[1], from);
    char *after = view_text(fx->v[1]);
    assert_string_equal(before, after);
    free(before);
    free(after);
    vault_assert_verifies(fx->v[1]);
}

static void
test_sync__bad_entries_change_nothing(void **state)
{
    struct fixture *fx = *state;
    struct authors a = {fx, NULL, NULL};
    char id[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Refat\"}", id);
    sync_one(fx, 0);
    sync_one(fx, 1);
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Second\"}", id);
    push(fx, 0);
    size_t good = fx->srv.n - 1;
    unsigned char *orig = fx->srv.body[good];
    size_t orig_len = fx->srv.len[good];
    /* one flipped byte anywhere: head, sealed key, ciphertext */
    size_t spots[] = {0, 3, 4, 10, 60, 150, orig_len / 2, orig_len - 1};
    for (size_t s = 0; s < sizeof spots / sizeof spots[0]; s++) {
        unsigned char *t = malloc(orig_len);
        memcpy(t, orig, orig_len);
        t[spots[s]] ^= 0x20;
        fx->srv.body[good] = t;
        assert_refused(fx, &a);
        free(t);
    }
    /* truncated */
    size_t cuts[] = {0, 4, 5, 100, orig_len - 1};
    for (size_t s = 0; s < sizeof cuts / sizeof cuts[0]; s++) {
        fx->srv.body[good] = orig;
        fx->srv.len[good] = cuts[s];
        assert_refused(fx, &a);
    }
    fx->srv.len[good] = orig_len;
    /* a refused author */
    a.refuse = fx->authors[0];
    assert_refused(fx, &a);
    a.refuse = NULL;
    /* a wrong epoch key: B holds another key for epoch 7 */
    struct dft_sync_keyring wrong = {1, sodium_malloc(sizeof(struct dft_sync_epoch))};
    memcpy(wrong.epochs, fx->ring.epochs, sizeof *wrong.epochs);
    wrong.epochs->ck[0] ^= 1;
    struct dft_error err = {0};
    struct dft_sync_entry e = {good, orig, orig_len};
    assert_int_equal(dft_vault_sync_keys_put(fx->v[1], &wrong, NULL), DFT_OK);
    assert_int_equal(dft_vault_sync_apply(fx->v[1], &e, 1, &wrong, author_ok, &a, NULL, &err),
                     DFT_ERR_INTEGRITY);
    assert_int_equal(dft_vault_sync_keys_put(fx->v[1], &fx->ring, NULL), DFT_OK);
    dft_sync_keyring_free(&wrong);
    /* an operation naming another author than the envelope's signer */
    char a64[64];
    dft_b64_encode(a64, fx->authors[0], 32);
    json_t *ops =
        json_pack("[{si ss ss ss ss ss ss s{ss} s[]}]", "v", 1, "id", "op_forged0000000000", "ts",
                  "2026-12-07T10:00:00.000Z", "author", a64, "record", "per_forged00000000",
                  "action", "create", "type", "person", "fields", "name", "Forged", "parents");
    unsigned char *fb = NULL;
    size_t fn = 0;
    forge(fx, fx->v[2], ops, fx->ring.epochs[0].ck, &fb, &fn);
    json_decref(ops);
    server_add(fx, fb, fn);
    assert_refused(fx, &a);
    /* the good entries alone merge */
    fx->srv.n--;
    free(fb);
    pull(fx, 1);
    assert_string_equal(field_of(fx->v[1], id, "name"), "Second");
    vault_assert_verifies(fx->v[1]);
}

static void
test_sync__held_author_stored_not_applied(void **state)
{
    struct fixture *fx = *state;
    struct authors a = {fx, NULL, fx->authors[2]};
    char id[DFT_ID_MAX], id2[DFT_ID_MAX];
    add_one(fx->v[2], "{\"type\":\"person\",\"name\":\"Held\"}", id);
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Fine\"}", id2);
    push(fx, 2);
    push(fx, 0);
    json_t *report = NULL;
    struct dft_error err = {0};
    assert_int_equal(pull_with(fx, 1, &a, &report, &err), DFT_OK);
    assert_int_equal(json_integer_value(json_object_get(report, "held")), 1);
    assert_int_equal(json_integer_value(json_object_get(report, "merged")), 1);
    json_decref(report);
    json_t *s = NULL;
    assert_int_equal(dft_vault_show(fx->v[1], id, 0, &s, NULL), DFT_ERR_NOT_FOUND);
    assert_int_equal(dft_vault_show(fx->v[1], id2, 0, &s, NULL), DFT_OK);
    json_decref(s);
    vault_assert_verifies(fx->v[1]);
}

static void
test_sync__field_device_pushes_but_cannot_read(void **state)
{
    struct fixture *fx = *state;
    char id[DFT_ID_MAX], other[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Member record\"}", other);
    push(fx, 0);
    add_one(fx->v[FIELD], "{\"type\":\"event\",\"title\":\"Seen at the checkpoint\"}", id);
    push(fx, FIELD);
    assert_int_equal(fx->srv.body[1][4], 1); /* sealed to the drop key */
    pull(fx, 1);
    assert_string_equal(field_of(fx->v[1], id, "title"), "Seen at the checkpoint");
    vault_assert_verifies(fx->v[1]);
    /* the field device holds no key that opens the member's entry */
    struct dft_error err = {0};
    struct authors a = {fx, NULL, NULL};
    struct dft_sync_entry e = {0, fx->srv.body[0], fx->srv.len[0]};
    assert_int_equal(
        dft_vault_sync_apply(fx->v[FIELD], &e, 1, &fx->fring, author_ok, &a, NULL, &err),
        DFT_ERR_INTEGRITY);
    /* nor its own, once pushed: K is gone */
    e.index = 1;
    e.body = fx->srv.body[1];
    e.len = fx->srv.len[1];
    assert_int_equal(
        dft_vault_sync_apply(fx->v[FIELD], &e, 1, &fx->fring, author_ok, &a, NULL, NULL),
        DFT_ERR_INTEGRITY);
}

static int
contains(const unsigned char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
test_sync__marker_never_in_wire_bodies(void **state)
{
    struct fixture *fx = *state;
    char id[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"MARKERzq81 Kurtseitov\"}", id);
    edit(fx->v[0], id, "summary", "MARKERzq81 again");
    add_one(fx->v[FIELD], "{\"type\":\"note\",\"text\":\"MARKERzq81 field\"}", id);
    push(fx, 0);
    push(fx, FIELD);
    char b64[64];
    dft_b64_encode(b64, (const unsigned char *)"MARKERzq81", 10);
    b64[12] = '\0';
    for (size_t i = 0; i < fx->srv.n; i++) {
        assert_false(contains(fx->srv.body[i], fx->srv.len[i], "MARKERzq81"));
        assert_false(contains(fx->srv.body[i], fx->srv.len[i], b64));
    }
}

static void
exec_sql(struct dft_vault *v, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(vault_db(v), sql, NULL, NULL, &msg) != SQLITE_OK) {
        print_error("%s: %s\n", sql, msg);
        sqlite3_free(msg);
        fail();
    }
}

static enum dft_err
verify_code(struct dft_vault *v)
{
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = dft_vault_verify(v, 0, &report, &err);
    json_decref(report);
    return rc;
}

static void
test_sync__verify_rechecks_pulled_entries(void **state)
{
    struct fixture *fx = *state;
    char id[DFT_ID_MAX];
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Pulled\"}", id);
    edit(fx->v[0], id, "summary", "checked again");
    sync_one(fx, 0);
    sync_one(fx, 1);
    vault_assert_verifies(fx->v[1]);
    /* nothing new: apply changes nothing */
    pull(fx, 1);
    vault_assert_verifies(fx->v[1]);
    /* a merged row changed behind the library's back */
    exec_sql(fx->v[1], "UPDATE sync_history SET op = replace(op, 'checked', 'CHANGED')");
    assert_int_equal(verify_code(fx->v[1]), DFT_ERR_INTEGRITY);
    exec_sql(fx->v[1], "UPDATE sync_history SET op = replace(op, 'CHANGED', 'checked')");
    vault_assert_verifies(fx->v[1]);
    /* a view row that the merged entries do not give */
    exec_sql(fx->v[1], "UPDATE records SET title = 'Other' WHERE type = 'person'");
    assert_int_equal(verify_code(fx->v[1]), DFT_ERR_INTEGRITY);
    exec_sql(fx->v[1], "UPDATE records SET title = 'Pulled' WHERE type = 'person'");
    vault_assert_verifies(fx->v[1]);
    /* a stored entry's bytes */
    exec_sql(fx->v[1], "UPDATE sync_pulled SET body = substr(body, 1, length(body) - 1) ||"
                       " x'00' WHERE sidx = 1");
    assert_int_equal(verify_code(fx->v[1]), DFT_ERR_INTEGRITY);
}

/* Chunks caught by chunks_out, by name. */
struct chunks {
    char name[8][65];
    unsigned char *body[8];
    size_t len[8];
    int n;
};

static int
take_chunk(void *ctx, const char *name, const unsigned char *body, size_t n)
{
    struct chunks *c = ctx;
    assert_true(c->n < 8);
    snprintf(c->name[c->n], sizeof c->name[c->n], "%s", name);
    c->body[c->n] = malloc(n);
    assert_non_null(c->body[c->n]);
    memcpy(c->body[c->n], body, n);
    c->len[c->n++] = n;
    return 0;
}

static void
chunks_free(struct chunks *c)
{
    for (int i = 0; i < c->n; i++) {
        free(c->body[i]);
    }
    c->n = 0;
}

static json_int_t
verify_waiting(struct dft_vault *v)
{
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = dft_vault_verify(v, 0, &report, &err);
    if (rc != DFT_OK) {
        print_error("verify: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    json_int_t w =
        json_integer_value(json_object_get(json_object_get(report, "evidence"), "waiting"));
    json_decref(report);
    return w;
}

static void
test_sync__evidence_chunks(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char rec[DFT_ID_MAX], file[256];
    add_one(fx->v[0], "{\"type\":\"case\",\"title\":\"Evidence case\"}", rec);
    snprintf(file, sizeof file, "%s/photo.txt", fx->dir[0]);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    for (int i = 0; i < 2000; i++) {
        fprintf(f, "MARKERzq81 line %d of the statement\n", i);
    }
    fclose(f);
    const char *paths[] = {NULL};
    paths[0] = file;
    json_t *att = NULL;
    assert_int_equal(dft_vault_attach(fx->v[0], rec, paths, 1, NULL, NULL, &att, &err), DFT_OK);
    json_decref(att);
    sync_one(fx, 0);
    sync_one(fx, 1);
    /* B has the evidence row, not the file: verify says it waits */
    assert_int_equal(verify_waiting(fx->v[1]), 1);
    json_t *wanted = NULL;
    assert_int_equal(dft_vault_sync_chunks_wanted(fx->v[1], &wanted, &err), DFT_OK);
    assert_int_equal(json_array_size(wanted), 1);
    json_t *none = NULL;
    assert_int_equal(dft_vault_sync_chunks_wanted(fx->v[0], &none, &err), DFT_OK);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
    struct chunks c = {0};
    assert_int_equal(dft_vault_sync_chunks_out(fx->v[0], &fx->ring, take_chunk, &c, &err), DFT_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.name[0], json_string_value(json_array_get(wanted, 0)));
    assert_false(contains(c.body[0], c.len[0], "MARKERzq81"));
    /* sent once */
    struct chunks again = {0};
    assert_int_equal(dft_vault_sync_chunks_out(fx->v[0], &fx->ring, take_chunk, &again, &err),
                     DFT_OK);
    assert_int_equal(again.n, 0);
    /* a flipped byte, a wrong name, a wrong key: refused, nothing placed */
    c.body[0][5 + 184 + 100] ^= 1; /* a chunk's ciphertext */
    assert_int_equal(
        dft_vault_sync_chunk_in(fx->v[1], &fx->ring, c.name[0], c.body[0], c.len[0], NULL),
        DFT_ERR_INTEGRITY);
    c.body[0][5 + 184 + 100] ^= 1; /* a chunk's ciphertext */
    c.body[0][5 + 30] ^= 1;        /* the object id in the header */
    assert_int_equal(
        dft_vault_sync_chunk_in(fx->v[1], &fx->ring, c.name[0], c.body[0], c.len[0], NULL),
        DFT_ERR_INTEGRITY);
    c.body[0][5 + 30] ^= 1;
    assert_int_equal(dft_vault_sync_chunk_in(fx->v[1], &fx->fring, c.name[0], c.body[0], 4, NULL),
                     DFT_ERR_INTEGRITY);
    c.body[0][c.len[0] - 3] ^= 1; /* the padding's tag */
    assert_int_equal(
        dft_vault_sync_chunk_in(fx->v[1], &fx->ring, c.name[0], c.body[0], c.len[0], NULL),
        DFT_ERR_INTEGRITY);
    c.body[0][c.len[0] - 3] ^= 1;
    assert_int_equal(verify_waiting(fx->v[1]), 1);
    /* the real one */
    assert_int_equal(
        dft_vault_sync_chunk_in(fx->v[1], &fx->ring, c.name[0], c.body[0], c.len[0], &err), DFT_OK);
    assert_int_equal(verify_waiting(fx->v[1]), 0);
    /* B extracts A's file */
    json_t *sh = NULL;
    assert_int_equal(dft_vault_show(fx->v[1], rec, 0, &sh, NULL), DFT_OK);
    const char *evid = json_string_value(
        json_object_get(json_array_get(json_object_get(sh, "evidence"), 0), "id"));
    char outp[300];
    snprintf(outp, sizeof outp, "%s/out.txt", fx->dir[1]);
    assert_int_equal(dft_vault_extract(fx->v[1], evid, outp, NULL, NULL, NULL, &err), DFT_OK);
    json_decref(sh);
    struct stat st1, st2;
    assert_int_equal(stat(outp, &st1), 0);
    assert_int_equal(stat(file, &st2), 0);
    assert_int_equal(st1.st_size, st2.st_size);
    vault_assert_verifies(fx->v[1]);
    json_t *w2 = NULL;
    assert_int_equal(dft_vault_sync_chunks_wanted(fx->v[1], &w2, &err), DFT_OK);
    assert_int_equal(json_array_size(w2), 0);
    json_decref(w2);
    /* B does not send it back */
    struct chunks back = {0};
    assert_int_equal(dft_vault_sync_chunks_out(fx->v[1], &fx->ring, take_chunk, &back, &err),
                     DFT_OK);
    assert_int_equal(back.n, 0);
    /* a field device's file: sealed to the drop key, opened by a member */
    char frec[DFT_ID_MAX];
    add_one(fx->v[FIELD], "{\"type\":\"note\",\"text\":\"from the field\"}", frec);
    snprintf(file, sizeof file, "%s/field.txt", fx->dir[FIELD]);
    f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "MARKERzq81 field recording\n");
    fclose(f);
    paths[0] = file;
    assert_int_equal(dft_vault_attach(fx->v[FIELD], frec, paths, 1, NULL, NULL, &att, &err),
                     DFT_OK);
    json_decref(att);
    push(fx, FIELD);
    pull(fx, 1);
    assert_int_equal(verify_waiting(fx->v[1]), 1);
    struct chunks fc = {0};
    assert_int_equal(dft_vault_sync_chunks_out(fx->v[FIELD], &fx->fring, take_chunk, &fc, &err),
                     DFT_OK);
    assert_int_equal(fc.n, 1);
    assert_int_equal(fc.body[0][4], 1);
    assert_false(contains(fc.body[0], fc.len[0], "MARKERzq81"));
    assert_int_equal(
        dft_vault_sync_chunk_in(fx->v[1], &fx->ring, fc.name[0], fc.body[0], fc.len[0], &err),
        DFT_OK);
    assert_int_equal(verify_waiting(fx->v[1]), 0);
    chunks_free(&fc);
    json_decref(wanted);
    chunks_free(&c);
    chunks_free(&again);
    chunks_free(&back);
}

static void
test_sync__operations_without_parents(void **state)
{
    struct fixture *fx = *state;
    char c64[64];
    dft_b64_encode(c64, fx->authors[2], 32);
    /* C's history from before sync: no parents; read as a chain of its own operations */
    json_t *ops =
        json_pack("[{si ss ss ss ss ss ss s{ss}} {si ss ss ss ss ss ss s{ss}}]", "v", 1, "id",
                  "op_legacy000000000a", "ts", "2026-01-01T10:00:00.000Z", "author", c64, "record",
                  "per_legacy00000000a", "action", "create", "type", "person", "fields", "name",
                  "Old name", "v", 1, "id", "op_legacy000000000b", "ts", "2026-01-02T10:00:00.000Z",
                  "author", c64, "record", "per_legacy00000000a", "action", "update", "type",
                  "person", "fields", "name", "New name");
    unsigned char *b = NULL;
    size_t n = 0;
    forge(fx, fx->v[2], ops, fx->ring.epochs[0].ck, &b, &n);
    json_decref(ops);
    server_add(fx, b, n);
    pull(fx, 1);
    assert_string_equal(field_of(fx->v[1], "per_legacy00000000a", "name"), "New name");
    json_t *c = conflicts(fx->v[1]);
    assert_int_equal(json_array_size(c), 0);
    json_decref(c);
    edit(fx->v[1], "per_legacy00000000a", "summary", "edited after sync");
    json_t *s = NULL;
    assert_int_equal(dft_vault_show(fx->v[1], "per_legacy00000000a", 0, &s, NULL), DFT_OK);
    json_t *h = json_object_get(s, "history"); /* local operations only */
    assert_int_equal(json_array_size(h), 1);
    json_t *parents = json_object_get(json_array_get(h, 0), "parents");
    assert_int_equal(json_array_size(parents), 1);
    assert_string_equal(json_string_value(json_array_get(parents, 0)), "op_legacy000000000b");
    json_decref(s);
    vault_assert_verifies(fx->v[1]);
}

/* A seen hook that refuses: what another member saw is not this device's history. */
static enum dft_err
refuse_seen(void *ctx, const json_t *seen, struct dft_error *err)
{
    *(size_t *)ctx = json_array_size(seen);
    return dft_fail(err, DFT_ERR_INTEGRITY, "fork: test refuses the seen checkpoint");
}

static void
test_sync__seen_checkpoint_travels(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char id[DFT_ID_MAX];
    json_t *st = json_pack("{ss s{sisI}}", "server", "http://127.0.0.1:9", "checkpoint", "root", 0,
                           "size", (json_int_t)5);
    /* a malformed checkpoint (root not a string) gives no seen */
    assert_int_equal(dft_vault_sync_state_put(fx->v[0], st, &err), DFT_OK);
    add_one(fx->v[0], "{\"type\":\"person\",\"name\":\"Before\"}", id);
    json_decref(st);
    st = json_pack("{ss s{sssI}}", "server", "http://127.0.0.1:9", "checkpoint", "root",
                   "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "size", (json_int_t)5);
    assert_int_equal(dft_vault_sync_state_put(fx->v[0], st, &err), DFT_OK);
    json_decref(st);
    edit(fx->v[0], id, "summary", "after");
    json_t *s = NULL;
    assert_int_equal(dft_vault_show(fx->v[0], id, 0, &s, NULL), DFT_OK);
    json_t *h = json_object_get(s, "history");
    assert_null(json_object_get(json_array_get(h, 0), "seen"));
    json_t *seen = json_object_get(json_array_get(h, 1), "seen");
    assert_int_equal(json_integer_value(json_object_get(seen, "size")), 5);
    json_decref(s);
    push(fx, 0);
    struct authors a = {fx, NULL, NULL};
    json_t *report = NULL;
    /* the seen hook runs before anything is merged and can refuse the whole pull */
    struct dft_sync_entry e[2];
    for (size_t k = 0; k < 2; k++) {
        e[k] = (struct dft_sync_entry){k, fx->srv.body[k], fx->srv.len[k]};
    }
    size_t seen_count = 0;
    assert_int_equal(fx->srv.n, 2);
    assert_int_equal(dft_vault_sync_apply_checked(fx->v[1], e, 2, &fx->ring, author_ok, &a,
                                                  refuse_seen, &seen_count, &report, &err),
                     DFT_ERR_INTEGRITY);
    assert_null(report);
    assert_int_equal(seen_count, 1);
    assert_int_equal(dft_vault_show(fx->v[1], id, 0, &s, NULL), DFT_ERR_NOT_FOUND);
    err = (struct dft_error){0};
    assert_int_equal(pull_with(fx, 1, &a, &report, &err), DFT_OK);
    json_t *list = json_object_get(report, "seen");
    assert_int_equal(json_array_size(list), 1);
    json_t *one = json_array_get(list, 0);
    assert_int_equal(json_integer_value(json_object_get(one, "index")), 1);
    assert_int_equal(json_integer_value(json_object_get(one, "size")), 5);
    assert_string_equal(json_string_value(json_object_get(one, "root")),
                        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    char a64[64];
    dft_b64_encode(a64, fx->authors[0], 32);
    assert_string_equal(json_string_value(json_object_get(one, "author")), a64);
    json_decref(report);
    vault_assert_verifies(fx->v[1]);
}

/* Three members edit offline and sync in random orders: identical views and conflicts. */
static void
test_sync__random_orders_converge(void **state)
{
    struct fixture *fx = *state;
    static const char *const names[] = {"Ahtem", "Ilmi", "Server", "Emil", "Lenie", "Zarema"};
    char ids[64][DFT_ID_MAX];
    int nids = 0;
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        char item[128];
        snprintf(item, sizeof item, "{\"type\":\"person\",\"name\":\"%s\"}", names[i]);
        add_one(fx->v[0], item, ids[nids++]);
    }
    sync_one(fx, 0);
    sync_one(fx, 1);
    sync_one(fx, 2);
    for (unsigned seed = 1; seed <= 3; seed++) {
        srandom(seed);
        for (int round = 0; round < 6; round++) {
            for (int m = 0; m < 3; m++) {
                int ops = (int)(random() % 3);
                for (int o = 0; o < ops; o++) {
                    int r = (int)(random() % nids);
                    int what = (int)(random() % 10);
                    json_t *s = NULL;
                    if (dft_vault_show(fx->v[m], ids[r], 0, &s, NULL) != DFT_OK ||
                        json_is_true(json_object_get(s, "deleted"))) {
                        json_decref(s);
                        continue;
                    }
                    json_decref(s);
                    if (what < 6) {
                        char val[64];
                        snprintf(val, sizeof val, "%s %d.%d.%u", names[random() % 6], m, round,
                                 seed);
                        edit(fx->v[m], ids[r],
                             what < 3 ? (strncmp(ids[r], "per_", 4) == 0 ? "name" : "title")
                                      : "summary",
                             val);
                    } else if (what < 8 && nids < 60) {
                        char item[128];
                        snprintf(item, sizeof item, "{\"type\":\"event\",\"title\":\"E%d.%d\"}", m,
                                 round);
                        add_one(fx->v[m], item, ids[nids++]);
                    } else if (what == 8) {
                        char lid[DFT_ID_MAX];
                        int r2 = (int)(random() % nids);
                        if (r2 != r) {
                            enum dft_err lr =
                                dft_vault_link(fx->v[m], ids[r], ids[r2], "witness", lid, NULL);
                            assert_true(lr == DFT_OK || lr == DFT_ERR_NOT_FOUND);
                        }
                    } else {
                        assert_int_equal(dft_vault_delete(fx->v[m], ids[r], NULL), DFT_OK);
                    }
                }
            }
            int order[3] = {0, 1, 2};
            for (int k = 2; k > 0; k--) {
                int j = (int)(random() % (k + 1));
                int t = order[k];
                order[k] = order[j];
                order[j] = t;
            }
            int syncs = 1 + (int)(random() % 3);
            for (int k = 0; k < syncs; k++) {
                sync_one(fx, order[k]);
            }
        }
        for (int k = 0; k < 2; k++) {
            sync_one(fx, 0);
            sync_one(fx, 1);
            sync_one(fx, 2);
        }
        assert_same_views(fx, 3);
        json_t *c = conflicts(fx->v[0]);
        total += json_array_size(c);
        json_decref(c);
    }
    assert_true(total > 0); /* the seeds do make concurrent writes */
    for (int m = 0; m < 3; m++) {
        vault_assert_verifies(fx->v[m]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sync__state_keys_sign_unseal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__push_pull_own_entries_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__concurrent_edits_conflict_then_resolve, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync__delete_concurrent_with_edit_keeps_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync__links_are_add_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__bad_entries_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__held_author_stored_not_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__field_device_pushes_but_cannot_read, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync__marker_never_in_wire_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__verify_rechecks_pulled_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__evidence_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__operations_without_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__seen_checkpoint_travels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync__random_orders_converge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
