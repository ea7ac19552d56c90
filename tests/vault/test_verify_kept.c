/*
 * test_verify_kept.c - verify sums the history rows from the envelope's own plaintext
 * (envelope_open_parse_kept, verify_digest_ops_kept): every located op is exactly its
 * json_canonical text, the digest is the same as from encoding each op, and a plaintext that is
 * not canonical (keys out of order, an escaped slash, -0, a \u escape, whitespace) is never
 * taken as canonical: the digest is then made from the ops, as before. The operation hashes
 * made from the plaintext (verify_open_hash_kept) equal envelope_open_hash's for ops of every
 * shape, and a bad item fails with the same message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/crypto.h"
#include "vault/keys_fixture.h"
#include "vault/envelope.h"
#include "vault/verify_history.h"
#include "vault/verify_ophash.h"

/* n creates and links as the vault writes them; note (when set) is one more field. */
static json_t *
make_ops(const char *author, size_t n, const char *note)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < n; i++) {
        char rec[32];
        snprintf(rec, sizeof rec, "per_%016zu", i);
        json_t *op = json_pack("{sisssssssssssss{sssss[ssi]}}", "v", 1, "id", "op_1", "ts",
                               "2026-11-29T09:30:12.345Z", "author", author, "record", rec,
                               "action", i % 3 == 2 ? "link" : "create", "type", "person", "fields",
                               "name", "\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc", "name_crh",
                               "Ahtem \xc3\x87iygoz \"q\" \\ /", "aliases", "\xc4\x9f\xc4\xb1",
                               "\xf0\x9f\x93\x9c", (int)i - 1);
        assert_non_null(op);
        if (i % 3 == 2) {
            json_object_set_new(op, "to", json_string("case_1"));
        }
        if (note != NULL) {
            json_object_set_new(json_object_get(op, "fields"), "note", json_string(note));
        }
        json_array_append_new(ops, op);
    }
    return ops;
}

/* Open env kept; check every located op against json_canonical; returns plain.canonical. */
static int
open_kept(const struct dft_keys *k, const struct dft_buf *env, int digest_check)
{
    struct dft_error err = {0};
    struct dft_envelope_info info;
    json_t *items = NULL;
    struct envelope_plain plain;
    assert_int_equal(envelope_open_parse_kept(k, env->data, env->len, &info, &items, &plain, &err),
                     DFT_OK);
    size_t n = json_array_size(items);
    assert_int_equal(n, info.op_count);
    int canonical = plain.canonical;
    struct dft_buf c;
    dft_buf_init(&c, DFT_ENV_MAX, 0);
    for (size_t i = 0; canonical && i < n; i++) {
        dft_buf_reset(&c);
        assert_int_equal(json_canonical(json_object_get(json_array_get(items, i), "op"), &c, &err),
                         DFT_OK);
        assert_int_equal(plain.op_len[i], c.len);
        assert_memory_equal(plain.data + plain.op_off[i], c.data, c.len);
    }
    dft_buf_release(&c);
    if (digest_check) {
        unsigned char key[VERIFY_DIGEST_KEY_BYTES];
        randombytes_buf(key, sizeof key);
        struct verify_digest a = {{0, 0, 0, 0}, 0, 0}, b = {{0, 0, 0, 0}, 0, 0};
        struct dft_buf s1, s2;
        dft_buf_init(&s1, DFT_ENV_MAX, 0);
        dft_buf_init(&s2, DFT_ENV_MAX, 0);
        verify_digest_ops(&a, key, 7, items, 0, n, &s1);
        verify_digest_ops_kept(&b, key, 7, items, &plain, 0, 1, &s2); /* in two ranges */
        verify_digest_ops_kept(&b, key, 7, items, &plain, 1, n, &s2);
        assert_true(a.rows > 0);
        assert_true(verify_digest_equal(&a, &b));
        dft_buf_release(&s1);
        dft_buf_release(&s2);
    }
    envelope_plain_free(&plain);
    assert_null(plain.data);
    json_decref(items);
    return canonical;
}

/* Encrypt text as the plaintext of a copy of env's signed head (the parse checks no root). */
static void
reseal_text(const struct dft_keys *k, const struct dft_buf *env, const char *text,
            struct dft_buf *out)
{
    size_t tlen = strlen(text);
    dft_buf_init(out, DFT_ENV_MAX, 0);
    assert_int_equal(dft_buf_reserve(out, 165 + tlen + 16), DFT_OK);
    memcpy(out->data, env->data, 165);
    size_t clen = tlen + 16;
    out->data[161] = (unsigned char)(clen >> 24);
    out->data[162] = (unsigned char)(clen >> 16);
    out->data[163] = (unsigned char)(clen >> 8);
    out->data[164] = (unsigned char)clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->data + 165, NULL, (const unsigned char *)text,
                                               tlen, out->data, 137, NULL, out->data + 137,
                                               k->seal_key);
    out->len = 165 + clen;
}

static void
test_verify_kept__sealed_ops_located_and_digest_same(void **state)
{
    (void)state;
    struct dft_error err = {0};
    assert_int_equal(dft_crypto_init(&err), DFT_OK);
    struct dft_keys *k = vault_random_keys();
    assert_non_null(k);
    char author[64];
    dft_b64_encode(author, k->sign_pk, DFT_SIGN_PK_BYTES);
    /* as sealed: canonical, every op located */
    json_t *ops = make_ops(author, 40, NULL);
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    assert_int_equal(open_kept(k, &env, 1), 1);
    dft_buf_release(&env);
    json_decref(ops);
    /* a control character is written \u0001: the fast path declines, the digest is the same */
    ops = make_ops(author, 5, "ctl\x01 tab\t");
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    assert_int_equal(open_kept(k, &env, 1), 0);
    dft_buf_release(&env);
    json_decref(ops);
    keys_free(k);
}

/* Every op hash from the kept plaintext equals envelope_open_hash's; the root checks. */
static void
same_hashes(const struct dft_keys *k, const struct dft_buf *env, int want_canonical)
{
    struct dft_error err = {0}, err2 = {0};
    struct dft_envelope_info info;
    json_t *items = NULL;
    struct envelope_plain plain;
    assert_int_equal(envelope_open_parse_kept(k, env->data, env->len, &info, &items, &plain, &err),
                     DFT_OK);
    assert_int_equal(plain.canonical, want_canonical);
    size_t n = info.op_count;
    unsigned char *a = calloc(n, DFT_HASH_BYTES), *b = calloc(n, DFT_HASH_BYTES);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(envelope_open_hash(items, &info, 0, n, a, &err), DFT_OK);
    assert_int_equal(verify_open_hash_kept(items, &info, &plain, 0, n / 2, b, &err2), DFT_OK);
    assert_int_equal(verify_open_hash_kept(items, &info, &plain, n / 2, n, b, &err2), DFT_OK);
    assert_memory_equal(a, b, n * DFT_HASH_BYTES);
    assert_int_equal(envelope_open_root(&info, b, &err2), DFT_OK);
    free(a);
    free(b);
    envelope_plain_free(&plain);
    json_decref(items);
}

static void
test_verify_kept__op_hashes_same(void **state)
{
    (void)state;
    struct dft_error err = {0};
    assert_int_equal(dft_crypto_init(&err), DFT_OK);
    struct dft_keys *k = vault_random_keys();
    assert_non_null(k);
    char author[64];
    dft_b64_encode(author, k->sign_pk, DFT_SIGN_PK_BYTES);
    json_t *ops = make_ops(author, 30, NULL);
    /* shapes: no fields, empty fields, nested values, a field named fields, a key with a quote
     * (taken by envelope_open_hash), odd field names */
    json_object_del(json_array_get(ops, 0), "fields");
    json_object_set_new(json_array_get(ops, 1), "fields", json_object());
    json_object_set_new(json_object_get(json_array_get(ops, 3), "fields"), "geo",
                        json_pack("{s{sb}s[i{}[]]sn}", "a", "b", 1, "c", -5, "d"));
    json_object_set_new(json_object_get(json_array_get(ops, 4), "fields"), "fields",
                        json_string("x"));
    json_object_set_new(json_object_get(json_array_get(ops, 7), "fields"), "",
                        json_string("empty name"));
    json_object_set_new(json_object_get(json_array_get(ops, 8), "fields"), "\xc3\x87/\xd0\xaf",
                        json_true());
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    same_hashes(k, &env, 1);
    dft_buf_release(&env);
    json_decref(ops);
    /* keys with an escape: the parse does not take the plaintext as canonical */
    ops = make_ops(author, 8, NULL);
    json_object_set_new(json_object_get(json_array_get(ops, 5), "fields"), "a\"b",
                        json_string("q"));
    json_object_set_new(json_array_get(ops, 6), "x\\y", json_integer(3));
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    same_hashes(k, &env, 0);
    dft_buf_release(&env);
    /* and verify_op_hash_text leaves such an op to envelope_open_hash */
    struct dft_buf c, scratch;
    dft_buf_init(&c, DFT_ENV_MAX, 0);
    dft_buf_init(&scratch, DFT_ENV_MAX, 0);
    unsigned char key[DFT_SALT_KEY_BYTES] = {1}, h[DFT_HASH_BYTES];
    for (size_t i = 4; i < 7; i++) {
        const json_t *op = json_array_get(ops, i);
        dft_buf_reset(&c);
        assert_int_equal(json_canonical(op, &c, &err), DFT_OK);
        assert_int_equal(verify_op_hash_text(h, op, c.data, c.len, key, &scratch), i == 4);
        if (i == 4) {
            unsigned char want[DFT_HASH_BYTES];
            assert_int_equal(sd_op_hash(want, op, key, &err), DFT_OK);
            assert_memory_equal(h, want, DFT_HASH_BYTES);
        }
    }
    dft_buf_release(&c);
    dft_buf_release(&scratch);
    json_decref(ops);
    /* not canonical (a control character): every op by envelope_open_hash */
    ops = make_ops(author, 4, "ctl\x02");
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    same_hashes(k, &env, 0);
    dft_buf_release(&env);
    json_decref(ops);
    keys_free(k);
}

/* A bad item in a canonical plaintext: the same failure and message as envelope_open_hash. */
static void
test_verify_kept__bad_item_same_message(void **state)
{
    (void)state;
    struct dft_error err = {0};
    assert_int_equal(dft_crypto_init(&err), DFT_OK);
    struct dft_keys *k = vault_random_keys();
    assert_non_null(k);
    char author[64];
    dft_b64_encode(author, k->sign_pk, DFT_SIGN_PK_BYTES);
    json_t *ops = make_ops(author, 2, NULL);
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    json_decref(ops);
    /* each text is head + author + tail */
    static const char *const tails[] = {
        "\",\"fields\":1},\"salt_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
        "{\"op\":{},\"salt_key\":\"x\"}]",
        "\"},\"salt_key\":\"AAAA\"},{\"op\":{},\"salt_key\":\"x\"}]",
        "\",\"v\":1},\"salt_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
        "{\"op\":{},\"salt_key\":\"x\"}]",
    };
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        char text[512];
        snprintf(text, sizeof text, "[{\"op\":{\"author\":\"%s%s", author, tails[t]);
        struct dft_buf e;
        reseal_text(k, &env, text, &e);
        struct dft_envelope_info info;
        json_t *items = NULL;
        struct envelope_plain plain;
        assert_int_equal(envelope_open_parse_kept(k, e.data, e.len, &info, &items, &plain, &err),
                         DFT_OK);
        assert_int_equal(plain.canonical, 1);
        unsigned char h1[2 * DFT_HASH_BYTES], h2[2 * DFT_HASH_BYTES];
        struct dft_error e1 = {0}, e2 = {0};
        enum dft_err r1 = envelope_open_hash(items, &info, 0, 2, h1, &e1);
        enum dft_err r2 = verify_open_hash_kept(items, &info, &plain, 0, 2, h2, &e2);
        assert_int_equal(r1, DFT_ERR_INTEGRITY);
        assert_int_equal(r2, r1);
        assert_string_equal(e2.msg, e1.msg);
        envelope_plain_free(&plain);
        json_decref(items);
        dft_buf_release(&e);
    }
    dft_buf_release(&env);
    keys_free(k);
}

static void
test_verify_kept__not_canonical_never_taken(void **state)
{
    (void)state;
    struct dft_error err = {0};
    assert_int_equal(dft_crypto_init(&err), DFT_OK);
    struct dft_keys *k = vault_random_keys();
    assert_non_null(k);
    json_t *ops = make_ops("a", 1, NULL);
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(k, ops, &env, &err), DFT_OK);
    json_decref(ops);
    static const char *const texts[] = {
        "[{\"op\":{\"a\":1,\"b\":2},\"salt_key\":\"x\"}]",              /* canonical */
        "[{\"op\":{\"b\":1,\"a\":2},\"salt_key\":\"x\"}]",              /* keys out of order */
        "[{\"op\":{\"a\":1,\"ab\":2,\"a\\\"\":3},\"salt_key\":\"x\"}]", /* an escaped key */
        "[{\"op\":{\"a\":\"\\/\"},\"salt_key\":\"x\"}]",                /* an escaped slash */
        "[{\"op\":{\"a\":-0},\"salt_key\":\"x\"}]",                     /* -0 */
        "[{\"op\":{\"a\":\"\\u0041\"},\"salt_key\":\"x\"}]",            /* \u: jansson's reader */
        "[{\"op\":{\"a\":1}, \"salt_key\":\"x\"}]",                     /* whitespace */
        "[{\"salt_key\":\"x\",\"op\":{\"a\":1}}]",                      /* item keys out of order */
        "[{\"op\":{\"a\":{\"d\":1,\"c\":2}},\"salt_key\":\"x\"}]", /* nested keys out of order */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct dft_buf e;
        reseal_text(k, &env, texts[i], &e);
        assert_int_equal(open_kept(k, &e, 0), i == 0);
        dft_buf_release(&e);
    }
    dft_buf_release(&env);
    keys_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_kept__sealed_ops_located_and_digest_same),
        cmocka_unit_test(test_verify_kept__not_canonical_never_taken),
        cmocka_unit_test(test_verify_kept__op_hashes_same),
        cmocka_unit_test(test_verify_kept__bad_item_same_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
