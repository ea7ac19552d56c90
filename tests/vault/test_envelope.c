/*
 * test_envelope.c - signed, sealed envelopes: round trip with unicode and nested values, every
 * byte flip and truncation, a foreign seal key, re-encrypted plaintexts that keep the signed
 * root, known answers for the disclosure digests and tree (computed here with libsodium's
 * SHA-256 and with Python hashlib), and selective disclosures checked from their digests.
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
#include "crypto/aead.h"
#include "vault/envelope.h"
#include "vault/keys_fixture.h"

struct fixture {
    struct dft_keys *k;
    char author[64];
    json_t *ops;        /* three operations */
    struct dft_buf env; /* ops sealed */
};

/* Operations as the vault writes them, with Cyrillic, Crimean Tatar and nested values. */
static json_t *
make_ops(const char *author, size_t n)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < n; i++) {
        char rec[32];
        snprintf(rec, sizeof rec, "per_%016zu", i);
        json_t *op = json_pack(
            "{sisssssssssssss{sssss[ssi]s{sss{sbsn}}ssss}}", "v", 1, "id", "op_0000000000000001",
            "ts", "2026-11-29T09:30:12.345Z", "author", author, "record", rec, "action", "create",
            "type", "person", "fields", "name", "\xd0\x90\xd1\x85\xd1\x82\xd0\xb5\xd0\xbc",
            "name_crh", "Ahtem \xc3\x87iygoz", "aliases", "\xc4\x9f\xc4\xb1", "\xf0\x9f\x93\x9c",
            (int)i, "address", "city",
            "Ba\xc4\x9f\xc3\xa7"
            "asaray",
            "geo", "exact", 1, "none", "note", "line\nbreak \"quoted\" \\ tab\t ctl\x01 del\x7f",
            "secret", "withheld-marker-7c1f");
        assert_non_null(op);
        json_array_append_new(ops, op);
    }
    return ops;
}

static int
group_setup(void **state)
{
    struct dft_error err = {0};
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || dft_crypto_init(&err) != DFT_OK) {
        return -1;
    }
    fx->k = vault_random_keys();
    if (fx->k == NULL) {
        return -1;
    }
    dft_b64_encode(fx->author, fx->k->sign_pk, DFT_SIGN_PK_BYTES);
    fx->ops = make_ops(fx->author, 3);
    dft_buf_init(&fx->env, DFT_ENV_MAX, 0);
    if (envelope_seal(fx->k, fx->ops, &fx->env, &err) != DFT_OK) {
        return -1;
    }
    *state = fx;
    return 0;
}

static int
group_teardown(void **state)
{
    struct fixture *fx = *state;
    keys_free(fx->k);
    json_decref(fx->ops);
    dft_buf_release(&fx->env);
    free(fx);
    return 0;
}

static void
test_envelope__seal_open_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    const unsigned char *e = fx->env.data;
    size_t n = fx->env.len;
    /* layout of docs/vault-format.md */
    assert_memory_equal(e, "DFTE\x01", 5);
    assert_memory_equal(e + 5, fx->k->sign_pk, 32);
    assert_memory_equal(e + 37, "\x00\x00\x00\x03", 4);
    assert_int_equal(((size_t)e[161] << 24 | (size_t)e[162] << 16 | (size_t)e[163] << 8 | e[164]),
                     n - 165);
    /* the clear part holds nothing of the operations */
    assert_null(memmem(e, n, "withheld-marker", 15));
    assert_null(memmem(e, n, "per_", 4));

    struct dft_envelope_info info;
    assert_int_equal(envelope_inspect(e, n, &info, &err), DFT_OK);
    assert_int_equal(info.op_count, 3);
    assert_memory_equal(info.author, fx->k->sign_pk, 32);
    assert_memory_equal(info.sd_root, e + 41, 32);
    json_t *ops = NULL;
    assert_int_equal(envelope_open(fx->k, e, n, &ops, &err), DFT_OK);
    assert_true(json_equal(ops, fx->ops));
    json_decref(ops);

    /* sealing twice gives different bytes (fresh salts and nonce), both open */
    struct dft_buf again;
    dft_buf_init(&again, DFT_ENV_MAX, 0);
    assert_int_equal(envelope_seal(fx->k, fx->ops, &again, &err), DFT_OK);
    assert_memory_not_equal(again.data + 41, e + 41, 32);
    assert_int_equal(envelope_open(fx->k, again.data, again.len, &ops, &err), DFT_OK);
    assert_true(json_equal(ops, fx->ops));
    json_decref(ops);
    dft_buf_release(&again);
}

static void
test_envelope__every_byte_flip_is_integrity(void **state)
{
    struct fixture *fx = *state;
    size_t n = fx->env.len;
    unsigned char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        struct dft_error err = {0};
        memcpy(p, fx->env.data, n);
        p[i] ^= (unsigned char)(1u << (i % 8));
        json_t *ops = NULL;
        enum dft_err rc = envelope_open(fx->k, p, n, &ops, &err);
        if (rc != DFT_ERR_INTEGRITY) {
            print_error("offset %zu: %d\n", i, rc);
        }
        assert_int_equal(rc, DFT_ERR_INTEGRITY);
        assert_null(ops);
        /* the clear part alone already fails for any byte the signature or length covers */
        struct dft_envelope_info info;
        if (i < 137 || (i >= 161 && i < 165)) {
            assert_int_equal(envelope_inspect(p, n, &info, &err), DFT_ERR_INTEGRITY);
        }
    }
    free(p);
}

static void
test_envelope__truncated_or_extended_is_integrity(void **state)
{
    struct fixture *fx = *state;
    size_t n = fx->env.len;
    for (size_t len = 0; len < n; len++) {
        unsigned char *p = malloc(len + 1);
        assert_non_null(p);
        memcpy(p, fx->env.data, len);
        json_t *ops = NULL;
        assert_int_equal(envelope_open(fx->k, p, len, &ops, NULL), DFT_ERR_INTEGRITY);
        free(p);
    }
    unsigned char *p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, fx->env.data, n);
    p[n] = 0;
    json_t *ops = NULL;
    assert_int_equal(envelope_open(fx->k, p, n + 1, &ops, NULL), DFT_ERR_INTEGRITY);
    free(p);
}

static void
test_envelope__foreign_seal_key_is_integrity(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    struct dft_keys *other = vault_random_keys();
    assert_non_null(other);
    /* same signing identity, another master key: the signature holds, decryption fails */
    memcpy(other->sign_pk, fx->k->sign_pk, sizeof other->sign_pk);
    memcpy(other->sign_sk, fx->k->sign_sk, sizeof other->sign_sk);
    struct dft_envelope_info info;
    assert_int_equal(envelope_inspect(fx->env.data, fx->env.len, &info, &err), DFT_OK);
    json_t *ops = NULL;
    assert_int_equal(envelope_open(other, fx->env.data, fx->env.len, &ops, &err),
                     DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "envelope does not decrypt (tampered or foreign)");
    keys_free(other);
}

/* Decrypt the envelope's plaintext into a JSON array (test-side, with the seal key). */
static json_t *
decrypt_plain(const struct dft_keys *k, const struct dft_buf *env)
{
    size_t clen = env->len - 165;
    unsigned char *pt = malloc(clen);
    assert_non_null(pt);
    unsigned long long plen = 0;
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, env->data + 165,
                                                                clen, env->data, 137,
                                                                env->data + 137, k->seal_key),
                     0);
    json_t *j = json_loadb((const char *)pt, (size_t)plen, 0, NULL);
    assert_non_null(j);
    free(pt);
    return j;
}

/* Encrypt text as the plaintext of a copy of env's signed head; out is a new envelope. */
static void
reseal_text(const struct dft_keys *k, const struct dft_buf *env, const char *text, size_t tlen,
            struct dft_buf *out)
{
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

static enum dft_err
reseal_and_open(const struct fixture *fx, const json_t *plain, struct dft_error *err)
{
    char *text = json_dumps(plain, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    struct dft_buf e;
    reseal_text(fx->k, &fx->env, text, strlen(text), &e);
    json_t *ops = NULL;
    enum dft_err rc = envelope_open(fx->k, e.data, e.len, &ops, err);
    json_decref(ops);
    dft_buf_release(&e);
    free(text);
    return rc;
}

static void
test_envelope__reencrypted_other_ops_same_root_is_integrity(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    json_t *plain = decrypt_plain(fx->k, &fx->env);
    /* the unchanged plaintext, re-encrypted, still opens: the harness itself is sound */
    assert_int_equal(reseal_and_open(fx, plain, &err), DFT_OK);

    static const char *const what[] = {
        "changed field value", "added field",        "removed field",
        "changed salt key",    "swapped operations", "duplicated op",
        "changed record",      "not json",           "author of another key",
    };
    for (size_t c = 0; c < sizeof what / sizeof what[0]; c++) {
        json_t *p = json_deep_copy(plain);
        json_t *op0 = json_object_get(json_array_get(p, 0), "op");
        json_t *item0 = json_array_get(p, 0);
        json_t *fields0 = json_object_get(op0, "fields");
        enum dft_err rc;
        switch (c) {
        case 0:
            json_object_set_new(fields0, "name", json_string("someone else"));
            break;
        case 1:
            json_object_set_new(fields0, "extra", json_string("x"));
            break;
        case 2:
            json_object_del(fields0, "note");
            break;
        case 3:
            json_object_set_new(item0, "salt_key",
                                json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
            break;
        case 4: {
            json_t *first = json_incref(json_array_get(p, 0));
            json_array_remove(p, 0);
            json_array_append_new(p, first);
            break;
        }
        case 5:
            json_array_set(p, 1, json_array_get(p, 0));
            break;
        case 6:
            json_object_set_new(op0, "record", json_string("per_zzzzzzzzzzzzzzzz"));
            break;
        case 8:
            json_object_set_new(op0, "author",
                                json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
            break;
        default:
            break;
        }
        if (c == 7) {
            struct dft_buf e;
            reseal_text(fx->k, &fx->env, "[1,2,3]", 7, &e);
            json_t *ops = NULL;
            rc = envelope_open(fx->k, e.data, e.len, &ops, &err);
            dft_buf_release(&e);
        } else {
            rc = reseal_and_open(fx, p, &err);
        }
        if (rc != DFT_ERR_INTEGRITY) {
            print_error("%s: %d\n", what[c], rc);
        }
        assert_int_equal(rc, DFT_ERR_INTEGRITY);
        json_decref(p);
    }
    json_decref(plain);
}

/* ---- known answers ---- */

static void
hex32(unsigned char out[32], const char *hex)
{
    assert_int_equal(dft_hex_decode(out, 32, hex), DFT_OK);
}

static void
test_envelope__item_digest_known_answers(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *value_json;
        const char *canonical; /* canonical_json([name, value]) written by hand from the doc */
        const char *sha256;    /* Python: hashlib.sha256(bytes(range(16)) + canonical) */
    } kat[] = {
        {"fields/name", "\"Ahtem Chiygoz\"", "[\"fields/name\",\"Ahtem Chiygoz\"]",
         "134be9297861e021bfede77f35aeb76227376a5c7ede931f289aef66491e11b8"},
        {"fields/\xd0\xb0\xd0\xb4\xd1\x80\xd0\xb5\xd1\x81\xd0\xb0",
         "{\"b\": [1, true, null], \"a\": \"x\\u001fy\"}",
         "[\"fields/\xd0\xb0\xd0\xb4\xd1\x80\xd0\xb5\xd1\x81\xd0\xb0\",{\"a\":\"x\\u001Fy\",\"b\":"
         "[1,true,null]}]",
         "f9dcdcb6ab35afea59a354b31e6bd5ebf4f885671364aa251106a3e43281eb95"},
        {"we\"ird", "-42", "[\"we\\\"ird\",-42]",
         "46c5e16504687ddce907aa6ce49f9ba7fea8c8906827d4ae75ee80ea1ad75ad7"},
    };
    unsigned char salt[DFT_SALT_BYTES];
    for (size_t i = 0; i < sizeof salt; i++) {
        salt[i] = (unsigned char)i;
    }
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        json_t *v = json_loads(kat[i].value_json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        unsigned char got[32], want[32], indep[32];
        assert_int_equal(sd_item_digest(got, salt, kat[i].name, v, NULL), DFT_OK);
        hex32(want, kat[i].sha256);
        assert_memory_equal(got, want, 32);
        /* and libsodium's SHA-256 over the hand-written canonical form */
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, salt, sizeof salt);
        crypto_hash_sha256_update(&st, (const unsigned char *)kat[i].canonical,
                                  strlen(kat[i].canonical));
        crypto_hash_sha256_final(&st, indep);
        assert_memory_equal(got, indep, 32);
        json_decref(v);
    }
}

/* Reference RFC 6962 tree hash with libsodium's SHA-256, written from the definition. */
static void
ref_mth(unsigned char out[32], const unsigned char (*h)[32], size_t n)
{
    unsigned char buf[65];
    if (n == 1) {
        buf[0] = 0x00;
        memcpy(buf + 1, h[0], 32);
        crypto_hash_sha256(out, buf, 33);
        return;
    }
    size_t k = 1;
    while (k << 1 < n) {
        k <<= 1;
    }
    buf[0] = 0x01;
    ref_mth(buf + 1, h, k);
    ref_mth(buf + 33, h + k, n - k);
    crypto_hash_sha256(out, buf, 65);
}

static void
test_envelope__tree_root_known_answers(void **state)
{
    (void)state;
    unsigned char leaves[17][32];
    for (unsigned i = 0; i < 17; i++) {
        unsigned char b = (unsigned char)i;
        crypto_hash_sha256(leaves[i], &b, 1);
    }
    /* Python hashlib, leaves sha256(bytes([i])) */
    static const struct {
        size_t n;
        const char *root;
    } kat[] = {
        {1, "d9de27625445003d8a9739a851e3ff8d41c0683630b4d63a88327a6aaa37c409"},
        {2, "604d540f09268b91672ab011394d5266ccd7d4484d0d109411a55848126a1b2c"},
        {3, "d1f13800048f5909d4043fc0c152f6643280cba608b672715e56ce159a20629f"},
        {5, "6b313b611b40676b9e1dfd70c4503f2379f88f0f1c2740fb7e1cacc32c113465"},
        {7, "bee2275db16667589a4515f63e0d053a2fa602c1d9f9703e98920a5bdad59baf"},
        {8, "80e139b44c90f91edebec705cc7586c3d90f4bdadd49628d25c20d4b03419287"},
    };
    unsigned char got[32], want[32];
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        sd_tree_root(got, leaves[0], kat[i].n);
        hex32(want, kat[i].root);
        assert_memory_equal(got, want, 32);
    }
    for (size_t n = 1; n <= 17; n++) {
        sd_tree_root(got, leaves[0], n);
        ref_mth(want, (const unsigned char(*)[32])leaves, n);
        assert_memory_equal(got, want, 32);
    }
}

static int
cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The signed root recomputed from the decrypted items with nothing but the doc's definitions. */
static void
test_envelope__signed_root_from_items_by_hand(void **state)
{
    struct fixture *fx = *state;
    json_t *plain = decrypt_plain(fx->k, &fx->env);
    size_t nops = json_array_size(plain);
    unsigned char op_hashes[8][32];
    assert_true(nops <= 8);
    for (size_t i = 0; i < nops; i++) {
        json_t *item = json_array_get(plain, i);
        json_t *op = json_object_get(item, "op");
        assert_int_equal(json_object_size(item), 2);
        unsigned char key[32];
        size_t kl = 0;
        const char *kb = json_string_value(json_object_get(item, "salt_key"));
        assert_non_null(kb);
        assert_int_equal(dft_b64_decode(key, sizeof key, &kl, kb, strlen(kb)), DFT_OK);
        assert_int_equal(kl, 32);
        /* items: top-level keys but "fields", then "fields/<name>" */
        json_t *named = json_object();
        const char *name;
        json_t *value;
        json_object_foreach(op, name, value)
        {
            if (strcmp(name, "fields") != 0) {
                json_object_set(named, name, value);
            }
        }
        json_object_foreach(json_object_get(op, "fields"), name, value)
        {
            char full[128];
            snprintf(full, sizeof full, "fields/%s", name);
            json_object_set(named, full, value);
        }
        unsigned char d[64][32];
        size_t nd = 0;
        json_object_foreach(named, name, value)
        {
            /* salt = BLAKE2b-128 keyed with the salt key, over the item name */
            unsigned char salt[16];
            crypto_generichash(salt, sizeof salt, (const unsigned char *)name, strlen(name), key,
                               sizeof key);
            unsigned char lib_salt[16];
            sd_item_salt(lib_salt, key, name);
            assert_memory_equal(salt, lib_salt, 16);
            json_t *pair = json_pack("[sO]", name, value);
            char *canon = json_dumps(pair, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            crypto_hash_sha256_state st;
            crypto_hash_sha256_init(&st);
            crypto_hash_sha256_update(&st, salt, 16);
            crypto_hash_sha256_update(&st, (unsigned char *)canon, strlen(canon));
            assert_true(nd < 64);
            crypto_hash_sha256_final(&st, d[nd++]);
            free(canon);
            json_decref(pair);
        }
        json_decref(named);
        qsort(d, nd, 32, cmp32);
        unsigned char tag = 0x02;
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, &tag, 1);
        crypto_hash_sha256_update(&st, d[0], nd * 32);
        crypto_hash_sha256_final(&st, op_hashes[i]);
        unsigned char lib[32];
        assert_int_equal(sd_op_hash(lib, op, key, NULL), DFT_OK);
        assert_memory_equal(lib, op_hashes[i], 32);
    }
    unsigned char root[32];
    ref_mth(root, (const unsigned char(*)[32])op_hashes, nops);
    assert_memory_equal(root, fx->env.data + 41, 32);
    json_decref(plain);
}

/* ---- selective disclosure ---- */

static void
test_envelope__disclose_one_field_and_verify(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    const char *names[] = {"fields/name"};
    json_t *d = NULL;
    assert_int_equal(envelope_disclose(fx->k, fx->env.data, fx->env.len, 1, names, 1, &d, &err),
                     DFT_OK);
    /* withheld values and other operations are not in the disclosure */
    char *text = json_dumps(d, 0);
    assert_null(strstr(text, "withheld-marker"));
    assert_null(strstr(text, "Ahtem \xc3\x87")); /* the withheld name_crh */
    assert_null(strstr(text, "per_0000000000000000"));
    free(text);
    assert_int_equal(json_array_size(json_object_get(d, "revealed")), 1);
    json_t *op1 = json_object_get(json_array_get(fx->ops, 1), "op");
    (void)op1;
    size_t items = json_object_size(json_array_get(fx->ops, 1)) - 1 +
                   json_object_size(json_object_get(json_array_get(fx->ops, 1), "fields"));
    assert_int_equal(json_array_size(json_object_get(d, "withheld")), items - 1);
    assert_int_equal(json_array_size(json_object_get(d, "path")), 2);

    struct dft_envelope_info info;
    json_t *revealed = NULL;
    assert_int_equal(disclosure_verify(d, fx->k->sign_pk, &info, &revealed, &err), DFT_OK);
    assert_memory_equal(info.author, fx->k->sign_pk, 32);
    assert_int_equal(info.op_count, 3);
    assert_int_equal(json_object_size(revealed), 1);
    assert_true(
        json_equal(json_object_get(revealed, "fields/name"),
                   json_object_get(json_object_get(json_array_get(fx->ops, 1), "fields"), "name")));
    json_decref(revealed);

    /* a disclosure survives a trip through its JSON text */
    char *s = json_dumps(d, JSON_COMPACT);
    json_t *back = json_loads(s, 0, NULL);
    assert_int_equal(disclosure_verify(back, NULL, NULL, NULL, &err), DFT_OK);
    json_decref(back);
    free(s);
    json_decref(d);
}

static void
test_envelope__disclose_every_index_and_size(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    for (size_t n = 1; n <= 6; n++) {
        json_t *ops = make_ops(fx->author, n);
        struct dft_buf env;
        dft_buf_init(&env, DFT_ENV_MAX, 0);
        assert_int_equal(envelope_seal(fx->k, ops, &env, &err), DFT_OK);
        for (size_t i = 0; i < n; i++) {
            const char *some[] = {"record", "fields/address", "type"};
            const char *all[] = {"v",
                                 "id",
                                 "ts",
                                 "author",
                                 "record",
                                 "action",
                                 "type",
                                 "fields/name",
                                 "fields/name_crh",
                                 "fields/aliases",
                                 "fields/address",
                                 "fields/note",
                                 "fields/secret"};
            json_t *d = NULL;
            json_t *rev = NULL;
            /* none, some, all */
            assert_int_equal(envelope_disclose(fx->k, env.data, env.len, i, NULL, 0, &d, &err),
                             DFT_OK);
            assert_int_equal(disclosure_verify(d, fx->k->sign_pk, NULL, NULL, &err), DFT_OK);
            json_decref(d);
            assert_int_equal(envelope_disclose(fx->k, env.data, env.len, i, some, 3, &d, &err),
                             DFT_OK);
            assert_int_equal(disclosure_verify(d, fx->k->sign_pk, NULL, &rev, &err), DFT_OK);
            char rec[32];
            snprintf(rec, sizeof rec, "per_%016zu", i);
            assert_string_equal(json_string_value(json_object_get(rev, "record")), rec);
            json_decref(rev);
            json_decref(d);
            assert_int_equal(envelope_disclose(fx->k, env.data, env.len, i, all, 13, &d, &err),
                             DFT_OK);
            assert_int_equal(json_array_size(json_object_get(d, "withheld")), 0);
            assert_int_equal(disclosure_verify(d, fx->k->sign_pk, NULL, NULL, &err), DFT_OK);
            json_decref(d);
        }
        json_t *d = NULL;
        assert_int_equal(envelope_disclose(fx->k, env.data, env.len, n, NULL, 0, &d, &err),
                         DFT_ERR_INPUT);
        assert_null(d);
        dft_buf_release(&env);
        json_decref(ops);
    }
}

static void
test_envelope__disclose_rejects_bad_requests(void **state)
{
    struct fixture *fx = *state;
    json_t *d = NULL;
    const char *unknown[] = {"fields/nope"};
    const char *twice[] = {"fields/name", "fields/name"};
    const char *fields[] = {"fields"};
    assert_int_equal(envelope_disclose(fx->k, fx->env.data, fx->env.len, 0, unknown, 1, &d, NULL),
                     DFT_ERR_INPUT);
    assert_int_equal(envelope_disclose(fx->k, fx->env.data, fx->env.len, 0, twice, 2, &d, NULL),
                     DFT_ERR_INPUT);
    assert_int_equal(envelope_disclose(fx->k, fx->env.data, fx->env.len, 0, fields, 1, &d, NULL),
                     DFT_ERR_INPUT);
    /* a damaged envelope cannot be disclosed */
    unsigned char *p = malloc(fx->env.len);
    memcpy(p, fx->env.data, fx->env.len);
    p[fx->env.len - 1] ^= 1;
    assert_int_equal(envelope_disclose(fx->k, p, fx->env.len, 0, NULL, 0, &d, NULL),
                     DFT_ERR_INTEGRITY);
    free(p);
    assert_null(d);
}

static void
replace_hash(json_t *arr, size_t i)
{
    char b64[dft_b64_len(32)];
    unsigned char h[32];
    randombytes_buf(h, sizeof h);
    dft_b64_encode(b64, h, 32);
    json_array_set_new(arr, i, json_string(b64));
}

static void
test_envelope__forged_disclosures_fail(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    const char *names[] = {"fields/name", "record"};
    json_t *good = NULL;
    assert_int_equal(envelope_disclose(fx->k, fx->env.data, fx->env.len, 2, names, 2, &good, &err),
                     DFT_OK);
    unsigned char other_pk[32], other_sk[64];
    crypto_sign_keypair(other_pk, other_sk);
    assert_int_equal(disclosure_verify(good, other_pk, NULL, NULL, &err), DFT_ERR_INTEGRITY);

    static const struct {
        const char *what;
        enum dft_err want;
    } cases[] = {
        {"changed revealed value", DFT_ERR_INTEGRITY},
        {"changed revealed name", DFT_ERR_INTEGRITY},
        {"changed salt", DFT_ERR_INTEGRITY},
        {"dropped withheld digest", DFT_ERR_INTEGRITY},
        {"replaced withheld digest", DFT_ERR_INTEGRITY},
        {"replaced path hash", DFT_ERR_INTEGRITY},
        {"dropped path hash", DFT_ERR_INTEGRITY},
        {"other index", DFT_ERR_INTEGRITY},
        {"index out of range", DFT_ERR_INTEGRITY},
        {"negative index", DFT_ERR_INTEGRITY},
        {"flipped head byte", DFT_ERR_INTEGRITY},
        {"revealed item swapped for a digest", DFT_ERR_INTEGRITY},
        {"extra key", DFT_ERR_INPUT},
        {"version 2", DFT_ERR_INPUT},
        {"head not base64", DFT_ERR_INPUT},
        {"revealed twice", DFT_ERR_INPUT},
        {"revealed item without salt", DFT_ERR_INPUT},
        {"withheld not base64", DFT_ERR_INPUT},
        {"not an object", DFT_ERR_INPUT},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        json_t *d = json_deep_copy(good);
        json_t *rev = json_object_get(d, "revealed");
        json_t *r0 = json_array_get(rev, 0);
        json_t *wh = json_object_get(d, "withheld");
        json_t *path = json_object_get(d, "path");
        switch (c) {
        case 0:
            json_object_set_new(r0, "value", json_string("someone else"));
            break;
        case 1:
            json_object_set_new(r0, "name", json_string("fields/name2"));
            break;
        case 2:
            json_object_set_new(r0, "salt", json_string("AAAAAAAAAAAAAAAAAAAAAA=="));
            break;
        case 3:
            json_array_remove(wh, 0);
            break;
        case 4:
            replace_hash(wh, 0);
            break;
        case 5:
            replace_hash(path, 0);
            break;
        case 6:
            json_array_remove(path, 0);
            break;
        case 7:
            json_object_set_new(d, "index", json_integer(1));
            break;
        case 8:
            json_object_set_new(d, "index", json_integer(3));
            break;
        case 9:
            json_object_set_new(d, "index", json_integer(-1));
            break;
        case 10: {
            unsigned char head[137];
            size_t hl = 0;
            const char *s = json_string_value(json_object_get(d, "head"));
            assert_int_equal(dft_b64_decode(head, sizeof head, &hl, s, strlen(s)), DFT_OK);
            head[50] ^= 0x10;
            char b64[dft_b64_len(137)];
            dft_b64_encode(b64, head, 137);
            json_object_set_new(d, "head", json_string(b64));
            break;
        }
        case 11:
            /* the revealed item is dropped and a random digest takes its place */
            json_array_remove(rev, 1);
            json_array_append_new(wh, json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
            break;
        case 12:
            json_object_set_new(d, "note", json_string("x"));
            break;
        case 13:
            json_object_set_new(d, "v", json_integer(2));
            break;
        case 14:
            json_object_set_new(d, "head", json_string("!!"));
            break;
        case 15:
            json_array_append(rev, r0);
            break;
        case 16:
            json_object_del(r0, "salt");
            break;
        case 17:
            json_array_set_new(wh, 0, json_string("not base64"));
            break;
        case 18:
            json_decref(d);
            d = json_array();
            break;
        default:
            break;
        }
        json_t *out = NULL;
        enum dft_err rc = disclosure_verify(d, fx->k->sign_pk, NULL, &out, &err);
        if (rc != cases[c].want) {
            print_error("%s: %d (%s)\n", cases[c].what, rc, err.msg);
        }
        assert_int_equal(rc, cases[c].want);
        assert_null(out);
        json_decref(d);
    }
    json_decref(good);
}

/*
 * A sealed envelope whose head claims 4,294,967,295 operations (sealed again under the vault's
 * key, as a member could): refused as malformed before anything is sized by the count.
 */
static void
test_envelope__huge_op_count_refused_before_sizing(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    size_t n = fx->env.len;
    unsigned char *e = malloc(n);
    assert_non_null(e);
    memcpy(e, fx->env.data, n);
    size_t clen = n - DFT_ENV_FIXED_BYTES, plen = clen - CRYPTO_XCHACHA_TAG_BYTES;
    unsigned char *pt = malloc(plen);
    assert_non_null(pt);
    assert_int_equal(crypto_xchacha_open(pt, e + DFT_ENV_FIXED_BYTES, clen, e, DFT_ENV_HEAD_BYTES,
                                         e + 137, fx->k->seal_key),
                     DFT_OK);
    memset(e + 37, 0xff, 4);
    /* signed again as docs/vault-format.md says: the domain line, then the head's first 73 bytes */
    static const char domain[] = "defter/envelope/v1\n";
    unsigned char msg[sizeof domain - 1 + 73];
    memcpy(msg, domain, sizeof domain - 1);
    memcpy(msg + sizeof domain - 1, e, 73);
    crypto_sign_detached(e + 73, NULL, msg, sizeof msg, fx->k->sign_sk);
    crypto_xchacha_seal(e + DFT_ENV_FIXED_BYTES, pt, plen, e, DFT_ENV_HEAD_BYTES, e + 137,
                        fx->k->seal_key);
    struct dft_envelope_info info;
    json_t *items = NULL;
    struct envelope_plain plain;
    assert_int_equal(envelope_open_parse_kept(fx->k, e, n, &info, &items, &plain, &err),
                     DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "envelope content is malformed");
    assert_null(items);
    dft_error_clear(&err);
    assert_int_equal(envelope_open_parse(fx->k, e, n, &info, &items, &err), DFT_ERR_INTEGRITY);
    assert_string_equal(err.msg, "envelope content is malformed");
    assert_null(items);
    sodium_memzero(pt, plen);
    free(pt);
    free(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope__seal_open_round_trip),
        cmocka_unit_test(test_envelope__every_byte_flip_is_integrity),
        cmocka_unit_test(test_envelope__truncated_or_extended_is_integrity),
        cmocka_unit_test(test_envelope__foreign_seal_key_is_integrity),
        cmocka_unit_test(test_envelope__reencrypted_other_ops_same_root_is_integrity),
        cmocka_unit_test(test_envelope__item_digest_known_answers),
        cmocka_unit_test(test_envelope__tree_root_known_answers),
        cmocka_unit_test(test_envelope__signed_root_from_items_by_hand),
        cmocka_unit_test(test_envelope__disclose_one_field_and_verify),
        cmocka_unit_test(test_envelope__disclose_every_index_and_size),
        cmocka_unit_test(test_envelope__disclose_rejects_bad_requests),
        cmocka_unit_test(test_envelope__forged_disclosures_fail),
        cmocka_unit_test(test_envelope__huge_op_count_refused_before_sizing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
