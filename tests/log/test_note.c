/*
 * test_note.c - C2SP signed notes, verifier keys, checkpoints and cosignature/v1 witness
 * signatures: the golang.org/x/mod/sumdb/note known answers (PeterNeumann key), signatures made
 * with libsodium, and every malformed case we reject.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "log/tlog.h"

/* golang.org/x/mod/sumdb/note note_test.go */
static const char peter_skey_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char enoch_vkey[] = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char text[] = "If you think cryptography is the answer to your problem,\n"
                           "then you don't know what your problem is.\n";
static const char peter_sig[] = "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pA"
                                "cElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char enoch_sig[] = "\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOX"
                                "m2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

static char *
cat(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static void
peter_keys(unsigned char pk[32], unsigned char sk[64])
{
    unsigned char raw[33];
    size_t n = 0;
    assert_int_equal(dft_b64_decode(raw, sizeof raw, &n, peter_skey_b64, strlen(peter_skey_b64)),
                     DFT_OK);
    assert_int_equal(n, 33);
    assert_int_equal(raw[0], 0x01);
    crypto_sign_seed_keypair(pk, sk, raw + 1);
}

static enum dft_err
open_note(const char *msg, const struct dft_note_verifier *vs, size_t nvs,
          struct dft_note_check *checks, struct dft_error *e)
{
    struct dft_note n;
    enum dft_err rc = note_parse(&n, msg, strlen(msg), e);
    if (rc != DFT_OK) {
        return rc;
    }
    rc = note_verify(&n, vs, nvs, checks, e);
    note_release(&n);
    return rc;
}

static void
test_note__go_known_answer_signature(void **state)
{
    (void)state;
    unsigned char pk[32], sk[64];
    peter_keys(pk, sk);
    struct dft_note_verifier v;
    assert_int_equal(note_verifier_init(&v, "PeterNeumann", DFT_NOTE_ALG_ED25519, pk, NULL),
                     DFT_OK);
    assert_int_equal(v.key_id, 0xc74f20a3);
    char vkey[DFT_NOTE_VKEY_MAX];
    note_verifier_format(&v, vkey);
    assert_string_equal(vkey, peter_vkey);
    struct dft_buf out;
    dft_buf_init(&out, 4096, 0);
    assert_int_equal(note_sign_line(&out, text, strlen(text), "PeterNeumann", sk, NULL), DFT_OK);
    assert_string_equal((const char *)out.data, peter_sig);
    dft_buf_release(&out);
    sodium_memzero(sk, sizeof sk);
}

static void
test_note__open_verifies_known_and_ignores_unknown(void **state)
{
    (void)state;
    struct dft_note_verifier vs[2];
    assert_int_equal(note_verifier_parse(&vs[0], peter_vkey, strlen(peter_vkey), NULL), DFT_OK);
    assert_int_equal(note_verifier_parse(&vs[1], enoch_vkey, strlen(enoch_vkey), NULL), DFT_OK);
    char *msg = cat(text, "\n", peter_sig);
    char *both = cat(msg, enoch_sig, "");
    struct dft_note n;
    assert_int_equal(note_parse(&n, both, strlen(both), NULL), DFT_OK);
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(n.text_len, strlen(text));
    assert_memory_equal(n.text, text, n.text_len);
    assert_int_equal(n.sigs[1].key_id, 0xaf0cfe78);
    assert_int_equal(n.sigs[1].name_len, 9);
    note_release(&n);

    struct dft_note_check checks[2];
    assert_int_equal(open_note(both, vs, 1, checks, NULL), DFT_OK);
    assert_true(checks[0].verified);
    assert_int_equal(open_note(both, vs, 2, checks, NULL), DFT_OK);
    assert_true(checks[0].verified && checks[1].verified);
    assert_int_equal(checks[1].sig_index, 1);
    assert_int_equal(open_note(both, vs + 1, 1, checks, NULL), DFT_OK);
    /* No known key: rejected. */
    struct dft_error e = {0};
    assert_int_equal(open_note(msg, vs + 1, 1, NULL, &e), DFT_ERR_INTEGRITY);
    assert_string_equal(e.msg, "note has no signature by a known key");
    assert_int_equal(open_note(msg, vs, 0, NULL, NULL), DFT_ERR_INTEGRITY);
    /* Duplicate verifier: ambiguous. */
    struct dft_note_verifier dup[2] = {vs[0], vs[0]};
    assert_int_equal(open_note(msg, dup, 2, NULL, NULL), DFT_ERR_INPUT);
    /* A corrupted signature by a known key rejects the whole note. */
    char sig[sizeof peter_sig + 4];
    memcpy(sig, peter_sig, 60);
    memcpy(sig + 60, "ABCD", 4);
    memcpy(sig + 64, peter_sig + 60, sizeof peter_sig - 60);
    char *bad = cat(text, "\n", sig);
    dft_error_clear(&e);
    assert_int_equal(open_note(bad, vs, 1, NULL, &e), DFT_ERR_INTEGRITY);
    assert_string_equal(e.msg, "invalid signature for key PeterNeumann+c74f20a3");
    free(bad);
    /* A changed text fails too. */
    bad = cat("If you think cryptography is the answer to your problem,\n"
              "then you don't know what your problem IS.\n",
              "\n", peter_sig);
    assert_int_equal(open_note(bad, vs, 1, NULL, NULL), DFT_ERR_INTEGRITY);
    free(bad);
    free(msg);
    free(both);
}

static void
test_note__verifier_key_manglings_rejected(void **state)
{
    (void)state;
    struct dft_note_verifier v;
    size_t len = strlen(peter_vkey);
    char b[128];
    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i + 1; j <= len; j++) {
            if (i == 0 && j == len) {
                continue;
            }
            assert_int_not_equal(note_verifier_parse(&v, peter_vkey + i, j - i, NULL), DFT_OK);
        }
    }
    memcpy(b, peter_vkey, len + 1);
    for (size_t i = 0; i < len; i++) {
        b[i]++;
        assert_int_not_equal(note_verifier_parse(&v, b, len, NULL), DFT_OK);
        b[i]--;
    }
    static const char *const bad[] = {
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(note_verifier_parse(&v, bad[i], strlen(bad[i]), NULL), DFT_ERR_INPUT);
    }
    assert_int_equal(note_verifier_parse(&v, peter_vkey, len, NULL), DFT_OK);
    /* Upper-case hex id is the same key. */
    memcpy(b, peter_vkey, len + 1);
    memcpy(b + 13, "C74F20A3", 8);
    assert_int_equal(note_verifier_parse(&v, b, len, NULL), DFT_OK);
}

static void
test_note__malformed_notes_rejected(void **state)
{
    (void)state;
    struct dft_note_verifier v;
    assert_int_equal(note_verifier_parse(&v, peter_vkey, strlen(peter_vkey), NULL), DFT_OK);
    char long_line[DFT_NOTE_LINE_MAX + 3];
    memset(long_line, 'a', DFT_NOTE_LINE_MAX + 1);
    long_line[DFT_NOTE_LINE_MAX + 1] = '\n';
    long_line[DFT_NOTE_LINE_MAX + 2] = '\0';
    char *many = cat(text, "\n", "");
    for (int i = 0; i < DFT_NOTE_SIGS_MAX + 1; i++) {
        char *next = cat(many, peter_sig, "");
        free(many);
        many = next;
    }
    char *cases[] = {
        cat(text, "", ""),   /* no signatures */
        cat(text, "\n", ""), /* blank line only */
        cat(text, "\n",
            "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZI"
            "nNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="), /* no final newline */
        cat("\x01", text, ""),                                    /* control character */
        cat("\xff", text, ""),                                    /* not UTF-8 */
        cat(text,
            "\n\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGU"
            "gYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            ""),
        cat(text, "\n", peter_sig), /* + unexpected line */
        cat(text,
            "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
            "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            ""), /* hyphen, not em dash */
        cat(text,
            "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIu"
            "GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
            ""), /* base64 without padding */
        cat(text,
            "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIu"
            "GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n",
            ""), /* non-canonical base64 */
        cat(text,
            "\n\xe2\x80\x94 PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInN"
            "IuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            ""), /* two spaces */
        cat(text,
            "\n\xe2\x80\x94 Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInN"
            "IuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            ""), /* plus in name */
        cat(text,
            "\n\xe2\x80\x94 Peter\xc2\xa0Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAc"
            "ElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            ""),                                             /* no-break space in name */
        cat(text, "\n\xe2\x80\x94 PeterNeumann AAAA\n", ""), /* under 5 bytes */
        cat(text,
            "\n\xe2\x80\x94  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
            "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            ""),                         /* empty name */
        cat(text, "\r\n", peter_sig),    /* carriage return */
        cat("\n", text, peter_sig),      /* text starts blank */
        cat(long_line, "\n", peter_sig), /* overlong line */
        cat(text, "\n", peter_sig),      /* + trailing bytes */
        cat(many, "", ""),               /* too many signatures */
    };
    char *tmp = cases[6];
    cases[6] = cat(tmp, "Unexpected line.\n", "");
    free(tmp);
    tmp = cases[18];
    cases[18] = cat(tmp, "x", "");
    free(tmp);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dft_note n;
        enum dft_err rc = note_parse(&n, cases[i], strlen(cases[i]), NULL);
        if (rc == DFT_OK) {
            fprintf(stderr, "case %zu parsed\n", i);
        }
        assert_true(rc == DFT_ERR_INPUT || rc == DFT_ERR_TOO_LARGE);
        assert_null(n.mem);
        free(cases[i]);
    }
    free(many);
    /* A NUL byte inside. */
    char *msg = cat(text, "\n", peter_sig);
    size_t len = strlen(msg);
    msg[3] = '\0';
    struct dft_note n;
    assert_int_equal(note_parse(&n, msg, len, NULL), DFT_ERR_INPUT);
    free(msg);
    /* Too large. */
    char *big = malloc(DFT_NOTE_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, 'a', DFT_NOTE_MAX_BYTES + 1);
    big[DFT_NOTE_MAX_BYTES] = '\n';
    assert_int_equal(note_parse(&n, big, DFT_NOTE_MAX_BYTES + 1, NULL), DFT_ERR_TOO_LARGE);
    free(big);
    /* Exactly 32 signatures are fine. */
    many = cat(text, "\n", "");
    for (int i = 0; i < DFT_NOTE_SIGS_MAX; i++) {
        char *next = cat(many, peter_sig, "");
        free(many);
        many = next;
    }
    assert_int_equal(open_note(many, &v, 1, NULL, NULL), DFT_OK);
    free(many);
}

static void
witness(unsigned char pk[32], unsigned char sk[64], struct dft_note_verifier *v, const char *name)
{
    crypto_sign_keypair(pk, sk);
    assert_int_equal(note_verifier_init(v, name, DFT_NOTE_ALG_COSIG_V1, pk, NULL), DFT_OK);
}

static void
test_cosig__sign_verify_and_message_format(void **state)
{
    (void)state;
    unsigned char pk[32], sk[64];
    struct dft_note_verifier w;
    witness(pk, sk, &w, "witness.example.com/w1");
    const char body[] = "example.com/behind-the-sofa\n20852163\n"
                        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    struct dft_buf line;
    dft_buf_init(&line, 4096, 0);
    assert_int_equal(
        note_cosign_line(&line, body, strlen(body), "witness.example.com/w1", sk, 1679315147, NULL),
        DFT_OK);
    char *msg = cat(body, "\n", (const char *)line.data);
    struct dft_note_check c;
    assert_int_equal(open_note(msg, &w, 1, &c, NULL), DFT_OK);
    assert_true(c.verified);
    assert_int_equal(c.timestamp, 1679315147);

    /* Independently: key id with 0x04, body = time (8 bytes BE) || signature over the spec's
     * message. */
    struct dft_note n;
    assert_int_equal(note_parse(&n, msg, strlen(msg), NULL), DFT_OK);
    unsigned char idin[64];
    size_t nl = strlen("witness.example.com/w1");
    memcpy(idin, "witness.example.com/w1\n\x04", nl + 2);
    memcpy(idin + nl + 2, pk, 32);
    unsigned char h[32];
    crypto_sha256_once(h, idin, nl + 34);
    assert_int_equal(n.sigs[0].key_id,
                     (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3]);
    assert_int_equal(n.sigs[0].sig_len, 72);
    static const unsigned char ts[8] = {0, 0, 0, 0, 0x64, 0x18, 0x50, 0xcb};
    assert_memory_equal(n.sigs[0].sig, ts, 8);
    char *signed_msg = cat("cosignature/v1\ntime 1679315147\n", body, "");
    assert_int_equal(crypto_sign_verify_detached(n.sigs[0].sig + 8,
                                                 (const unsigned char *)signed_msg,
                                                 strlen(signed_msg), pk),
                     0);
    free(signed_msg);
    note_release(&n);

    /* The same key as a plain Ed25519 verifier has another id: not known, so rejected. */
    struct dft_note_verifier plain;
    assert_int_equal(
        note_verifier_init(&plain, "witness.example.com/w1", DFT_NOTE_ALG_ED25519, pk, NULL),
        DFT_OK);
    assert_int_equal(open_note(msg, &plain, 1, NULL, NULL), DFT_ERR_INTEGRITY);

    /* Changing the timestamp breaks the signature. */
    size_t len = strlen(msg);
    char *p = strstr(msg, "\xe2\x80\x94 witness.example.com/w1 ") + 4 + nl + 1;
    /* base64 chars 4..15 carry the time; flip one of them. */
    p[9] = p[9] == 'A' ? 'B' : 'A';
    struct dft_error e = {0};
    enum dft_err rc = open_note(msg, &w, 1, NULL, &e);
    assert_true(rc == DFT_ERR_INTEGRITY || rc == DFT_ERR_INPUT);
    (void)len;
    free(msg);

    /* Timestamps above 2^63 - 1 are refused. */
    dft_buf_reset(&line);
    assert_int_equal(
        note_cosign_line(&line, body, strlen(body), "w", sk, (uint64_t)INT64_MAX + 1, NULL),
        DFT_ERR_INPUT);
    dft_buf_release(&line);
    sodium_memzero(sk, sizeof sk);
}

static void
test_cosig__transparency_dev_timestamp_vector(void **state)
{
    (void)state;
    /* transparency-dev/formats note_cosigv1_test.go: this signature's time is 1727964367. */
    char *msg = cat("a\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", "\xe2\x80\x94 w ",
                    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5g"
                    "xEHWWOworDcFiEBYJXORmnFBOBA==\n");
    struct dft_note n;
    assert_int_equal(note_parse(&n, msg, strlen(msg), NULL), DFT_OK);
    assert_int_equal(n.sigs[0].key_id, 0x646846b9);
    assert_int_equal(n.sigs[0].sig_len, 72);
    uint64_t t = 0;
    for (int i = 0; i < 8; i++) {
        t = t << 8 | n.sigs[0].sig[i];
    }
    assert_int_equal(t, 1727964367);
    note_release(&n);
    free(msg);
}

static void
test_checkpoint__origin_format_parse_sign_open(void **state)
{
    (void)state;
    unsigned char pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char origin[DFT_TLOG_ORIGIN_BYTES];
    tlog_origin(origin, pk);
    unsigned char h[32];
    char hex[65];
    crypto_sha256_once(h, pk, 32);
    dft_hex_encode(hex, h, 32);
    assert_int_equal(strlen(origin), 29);
    assert_memory_equal(origin, "defter.vault/", 13);
    assert_memory_equal(origin + 13, hex, 16);

    struct dft_checkpoint c = {0};
    memcpy(c.origin, origin, sizeof origin);
    c.size = 20852163;
    memset(c.root, 0x5a, 32);
    struct dft_buf note;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES, 0);
    assert_int_equal(checkpoint_sign(&note, &c, sk, NULL), DFT_OK);
    char root[DFT_TLOG_HASH_B64];
    tlog_hash_encode(root, c.root);
    char want[256];
    snprintf(want, sizeof want, "%s\n20852163\n%s\n\n\xe2\x80\x94 %s ", origin, root, origin);
    assert_memory_equal(note.data, want, strlen(want));

    struct dft_note_verifier log;
    tlog_log_verifier(&log, pk);
    assert_string_equal(log.name, origin);

    /* Three witnesses; two cosign. */
    unsigned char wpk[3][32], wsk[3][64];
    struct dft_note_verifier ws[3];
    witness(wpk[0], wsk[0], &ws[0], "w0.example");
    witness(wpk[1], wsk[1], &ws[1], "w1.example");
    witness(wpk[2], wsk[2], &ws[2], "w2.example");
    size_t body_len = strlen(want) - strlen(origin) - 6; /* up to the blank line */
    for (int i = 0; i < 3; i += 2) {
        assert_int_equal(note_cosign_line(&note, (const char *)note.data, body_len, ws[i].name,
                                          wsk[i], 1700000000u + (unsigned)i, NULL),
                         DFT_OK);
    }
    struct dft_checkpoint got;
    struct dft_note_check wc[3];
    assert_int_equal(
        checkpoint_open(&got, (const char *)note.data, note.len, &log, ws, 3, wc, NULL), DFT_OK);
    assert_string_equal(got.origin, origin);
    assert_int_equal(got.size, 20852163);
    assert_memory_equal(got.root, c.root, 32);
    assert_true(wc[0].verified && !wc[1].verified && wc[2].verified);
    assert_int_equal(wc[2].timestamp, 1700000002);

    /* Signed by another log key: rejected. */
    unsigned char opk[32], osk[64];
    crypto_sign_keypair(opk, osk);
    struct dft_note_verifier other;
    tlog_log_verifier(&other, opk);
    struct dft_error e = {0};
    assert_int_equal(
        checkpoint_open(&got, (const char *)note.data, note.len, &other, ws, 3, wc, &e),
        DFT_ERR_INTEGRITY);
    /* Only witnesses known, log key missing from the note: rejected. */
    struct dft_buf only;
    dft_buf_init(&only, DFT_NOTE_MAX_BYTES, 0);
    assert_int_equal(dft_buf_add(&only, note.data, body_len + 1), DFT_OK);
    assert_int_equal(
        note_cosign_line(&only, (const char *)note.data, body_len, ws[0].name, wsk[0], 1, NULL),
        DFT_OK);
    dft_error_clear(&e);
    assert_int_equal(checkpoint_open(&got, (const char *)only.data, only.len, &log, ws, 3, wc, &e),
                     DFT_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "not signed by the log key"));
    dft_buf_release(&only);
    /* One flipped byte anywhere in the body is caught. */
    for (size_t i = 0; i < body_len; i++) {
        if (note.data[i] == '\n') {
            continue;
        }
        note.data[i] ^= 0x01;
        enum dft_err rc =
            checkpoint_open(&got, (const char *)note.data, note.len, &log, ws, 3, wc, NULL);
        assert_true(rc == DFT_ERR_INTEGRITY || rc == DFT_ERR_INPUT);
        note.data[i] ^= 0x01;
    }
    dft_buf_release(&note);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(osk, sizeof osk);
    sodium_memzero(wsk, sizeof wsk);
}

static void
test_checkpoint__malformed_bodies_rejected(void **state)
{
    (void)state;
    const char *good = "defter.vault/0123456789abcdef\n8\n"
                       "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
    struct dft_checkpoint c;
    assert_int_equal(checkpoint_parse(&c, good, strlen(good), NULL), DFT_OK);
    assert_int_equal(c.size, 8);
    unsigned char want[32];
    assert_int_equal(
        dft_hex_decode(want, 32,
                       "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
        DFT_OK);
    assert_memory_equal(c.root, want, 32);
    struct dft_buf b;
    dft_buf_init(&b, 1024, 0);
    assert_int_equal(checkpoint_format(&b, &c, NULL), DFT_OK);
    assert_string_equal((const char *)b.data, good);
    dft_buf_release(&b);

    static const char *const bad[] = {
        "o\n8\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\next\n",
        "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n+8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n 8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n9223372036854775807\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQygA\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",
        "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",
        "o o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "o\t\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(checkpoint_parse(&c, bad[i], strlen(bad[i]), NULL), DFT_ERR_INPUT);
    }
    const char *empty = "o\n0\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
    assert_int_equal(checkpoint_parse(&c, empty, strlen(empty), NULL), DFT_OK);
    assert_int_equal(c.size, 0);
}

int
main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_note__go_known_answer_signature),
        cmocka_unit_test(test_note__open_verifies_known_and_ignores_unknown),
        cmocka_unit_test(test_note__verifier_key_manglings_rejected),
        cmocka_unit_test(test_note__malformed_notes_rejected),
        cmocka_unit_test(test_cosig__sign_verify_and_message_format),
        cmocka_unit_test(test_cosig__transparency_dev_timestamp_vector),
        cmocka_unit_test(test_checkpoint__origin_format_parse_sign_open),
        cmocka_unit_test(test_checkpoint__malformed_bodies_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
