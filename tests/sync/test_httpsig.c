/*
 * test_httpsig.c - RFC 9421 signatures as sync uses them: the exact signature base, sign and
 * verify, every refusal of the parser (other components, algorithm, label, missing or repeated
 * parameters, bad lengths), Content-Digest checks and the nonce cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "defter/crypto.h"
#include "sync/httpsig.h"

static unsigned char pk[32], sk[64];

static enum dft_err
sign_raw(void *ctx, const unsigned char *msg, size_t n, unsigned char sig[64],
         struct dft_error *err)
{
    (void)ctx;
    (void)err;
    crypto_sign_detached(sig, NULL, msg, n, sk);
    return DFT_OK;
}

static const char url[] = "http://127.0.0.1:8080/v1/c/0123/envelopes?since=3";

static void
test_httpsig__base_is_rfc9421(void **state)
{
    (void)state;
    struct dft_buf b;
    dft_buf_init(&b, 4096, 0);
    const char params[] = "(\"@method\" \"@target-uri\" \"content-digest\");created=1;nonce=\"n\"";
    assert_int_equal(
        httpsig_base(&b, "POST", "http://h/p", "sha-256=:X:", params, strlen(params), NULL),
        DFT_OK);
    assert_string_equal((const char *)b.data,
                        "\"@method\": POST\n\"@target-uri\": http://h/p\n\"content-digest\": "
                        "sha-256=:X:\n\"@signature-params\": (\"@method\" \"@target-uri\" "
                        "\"content-digest\");created=1;nonce=\"n\"");
    dft_buf_release(&b);
    char d[HTTPSIG_HEADER_MAX];
    httpsig_digest(d, (const unsigned char *)"", 0);
    /* SHA-256 of the empty string */
    assert_string_equal(d, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
}

static void
test_httpsig__sign_then_verify(void **state)
{
    (void)state;
    struct httpsig_headers h;
    struct httpsig_params p;
    const unsigned char body[] = "entries";
    unsigned char nonce[16] = {1, 2, 3};
    assert_int_equal(
        httpsig_sign(&h, "POST", url, body, 7, pk, 1700000000, nonce, sign_raw, NULL, NULL),
        DFT_OK);
    assert_int_equal(httpsig_verify(&p, "POST", url, h.digest, h.input, h.signature, NULL), DFT_OK);
    assert_memory_equal(p.keyid, pk, 32);
    assert_int_equal(p.created, 1700000000);
    assert_int_equal(httpsig_check_digest(h.digest, body, 7, NULL), DFT_OK);
    assert_int_equal(httpsig_check_digest(h.digest, (const unsigned char *)"entrieS", 7, NULL),
                     DFT_ERR_INPUT);
    /* another method, another URI, another digest: no */
    assert_int_equal(httpsig_verify(&p, "GET", url, h.digest, h.input, h.signature, NULL),
                     DFT_ERR_CRYPTO);
    assert_int_equal(httpsig_verify(&p, "POST", "http://127.0.0.1:8080/v1/c/0123/envelopes?since=4",
                                    h.digest, h.input, h.signature, NULL),
                     DFT_ERR_CRYPTO);
    char d2[HTTPSIG_HEADER_MAX];
    httpsig_digest(d2, (const unsigned char *)"other", 5);
    assert_int_equal(httpsig_verify(&p, "POST", url, d2, h.input, h.signature, NULL),
                     DFT_ERR_CRYPTO);
    /* a flipped signature byte */
    char bad[HTTPSIG_HEADER_MAX];
    memcpy(bad, h.signature, sizeof bad);
    bad[10] = bad[10] == 'A' ? 'B' : 'A';
    assert_int_not_equal(httpsig_verify(&p, "POST", url, h.digest, h.input, bad, NULL), DFT_OK);
    /* another key in keyid: the signature does not verify under it */
    unsigned char pk2[32], sk2[64];
    char in2[HTTPSIG_HEADER_MAX], k1[64], k2[64];
    crypto_sign_keypair(pk2, sk2);
    dft_b64_encode(k1, pk, 32);
    dft_b64_encode(k2, pk2, 32);
    memcpy(in2, h.input, sizeof in2);
    char *at = strstr(in2, k1);
    assert_non_null(at);
    memcpy(at, k2, 44);
    assert_int_equal(httpsig_verify(&p, "POST", url, h.digest, in2, h.signature, NULL),
                     DFT_ERR_CRYPTO);
}

/* form with NONCE and KEYID replaced */
static void
fill(char *out, const char *form, const char *nonce, const char *key)
{
    size_t o = 0;
    for (const char *p = form; *p != '\0' && o + 64 < HTTPSIG_HEADER_MAX;) {
        if (strncmp(p, "NONCE", 5) == 0) {
            memcpy(out + o, nonce, strlen(nonce));
            o += strlen(nonce);
            p += 5;
        } else if (strncmp(p, "KEYID", 5) == 0) {
            memcpy(out + o, key, strlen(key));
            o += strlen(key);
            p += 5;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void
test_httpsig__parser_refuses_other_forms(void **state)
{
    (void)state;
    struct httpsig_headers h;
    struct httpsig_params p;
    unsigned char sig[64];
    const char *params;
    size_t pl;
    assert_int_equal(
        httpsig_sign(&h, "GET", url, NULL, 0, pk, 1700000000, NULL, sign_raw, NULL, NULL), DFT_OK);
    char k[64];
    dft_b64_encode(k, pk, 32);
    char nonce[32];
    memcpy(nonce, strstr(h.input, "nonce=\"") + 7, 22);
    nonce[22] = '\0';
    char buf[HTTPSIG_HEADER_MAX];
    const char *forms[] = {
        "sig1=(\"@method\" "
        "\"@target-uri\");created=1;nonce=\"NONCE\";keyid=\"KEYID\";alg=\"ed25519\"",
        "sig1=(\"@method\" \"@target-uri\" "
        "\"content-digest\");created=1;nonce=\"NONCE\";keyid=\"KEYID\";"
        "alg=\"rsa-pss-sha512\"",
        "sig1=(\"@method\" \"@target-uri\" "
        "\"content-digest\");created=1;nonce=\"NONCE\";keyid=\"KEYID\"",
        "sig1=(\"@method\" \"@target-uri\" \"content-digest\");created=1;created=2;nonce=\"NONCE\";"
        "keyid=\"KEYID\";alg=\"ed25519\"",
        "sig1=(\"@method\" \"@target-uri\" "
        "\"content-digest\");created=x;nonce=\"NONCE\";keyid=\"KEYID\";"
        "alg=\"ed25519\"",
        "sig1=(\"@method\" \"@target-uri\" "
        "\"content-digest\");created=1;nonce=\"NONCE\";keyid=\"KEYID\";"
        "alg=\"ed25519\";expires=9",
        "Sig1=(\"@method\" \"@target-uri\" "
        "\"content-digest\");created=1;nonce=\"NONCE\";keyid=\"KEYID\";"
        "alg=\"ed25519\"",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        fill(buf, forms[i], nonce, k);
        assert_int_equal(httpsig_parse(&p, buf, h.signature, sig, &params, &pl, NULL),
                         DFT_ERR_INPUT);
    }
    /* the signature under another label, or of the wrong length */
    assert_int_equal(httpsig_parse(&p, h.input, h.signature + 1, sig, &params, &pl, NULL),
                     DFT_ERR_INPUT);
    assert_int_equal(httpsig_parse(&p, h.input, "sig1=:AAAA:", sig, &params, &pl, NULL),
                     DFT_ERR_INPUT);
    assert_int_equal(httpsig_parse(&p, NULL, h.signature, sig, &params, &pl, NULL), DFT_ERR_INPUT);
    /* parameters in another order are accepted (and signed as sent) */
    snprintf(buf, sizeof buf,
             "sig1=(\"@method\" \"@target-uri\" \"content-digest\");alg=\"ed25519\";keyid=\"%s\";"
             "nonce=\"%s\";created=1",
             k, nonce);
    assert_int_equal(httpsig_parse(&p, buf, h.signature, sig, &params, &pl, NULL), DFT_OK);
    assert_int_equal(p.created, 1);
}

static void
test_httpsig__nonce_replay(void **state)
{
    (void)state;
    struct httpsig_nonces *ns = httpsig_nonces_new();
    assert_non_null(ns);
    char n[HTTPSIG_NONCE_LEN + 1];
    unsigned char raw[16];
    assert_int_equal(httpsig_nonces_check(ns, pk, "AAAAAAAAAAAAAAAAAAAAAA", 1000), 0);
    assert_int_equal(httpsig_nonces_check(ns, pk, "AAAAAAAAAAAAAAAAAAAAAA", 1001), 1);
    /* another key may use the same nonce */
    unsigned char other[32] = {9};
    assert_int_equal(httpsig_nonces_check(ns, other, "AAAAAAAAAAAAAAAAAAAAAA", 1001), 0);
    /* many nonces: the table grows and still remembers the first */
    for (int i = 0; i < 20000; i++) {
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(n, sizeof n, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        assert_int_equal(httpsig_nonces_check(ns, pk, n, 1002), 0);
        assert_int_equal(httpsig_nonces_check(ns, pk, n, 1002), 1);
    }
    assert_int_equal(httpsig_nonces_check(ns, pk, "AAAAAAAAAAAAAAAAAAAAAA", 1100), 1);
    /* after the TTL it is forgotten (created would be refused long before) */
    assert_int_equal(httpsig_nonces_check(ns, pk, "AAAAAAAAAAAAAAAAAAAAAA", 1000 + 601), 0);
    assert_int_equal(httpsig_nonces_check(ns, pk, "short", 1000), 1);
    httpsig_nonces_free(ns);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    crypto_sign_keypair(pk, sk);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpsig__base_is_rfc9421),
        cmocka_unit_test(test_httpsig__sign_then_verify),
        cmocka_unit_test(test_httpsig__parser_refuses_other_forms),
        cmocka_unit_test(test_httpsig__nonce_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
