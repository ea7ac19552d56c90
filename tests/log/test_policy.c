/*
 * test_policy.c - the C2SP tlog-policy parser and quorum evaluation (src/log/policy.c), and the
 * tlog-witness request parser (src/log/witness_req.c): the spec's example, every refusal, and
 * quorum tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "log/policy.h"
#include "log/witness_req.h"

static char vk[8][DFT_NOTE_VKEY_MAX]; /* 0: a log key; 1..7 witness keys */

static int
setup(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    for (int i = 0; i < 8; i++) {
        unsigned char pub[32];
        struct dft_note_verifier v;
        char name[32];
        memset(pub, i + 1, sizeof pub);
        snprintf(name, sizeof name, i == 0 ? "example.org/log" : "w%d.example", i);
        assert_int_equal(note_verifier_init(&v, name,
                                            i == 0 ? DFT_NOTE_ALG_ED25519 : DFT_NOTE_ALG_COSIG_V1,
                                            pub, NULL),
                         DFT_OK);
        note_verifier_format(&v, vk[i]);
    }
    return 0;
}

/* fmt refers to the keys as %1$s (log) and %2$s.. (witnesses); the tables below are ours. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static enum dft_err
parse(struct policy *p, const char *fmt, struct dft_error *e)
{
    char text[8192];
    snprintf(text, sizeof text, fmt, vk[0], vk[1], vk[2], vk[3], vk[4], vk[5], vk[6]);
    return policy_parse(p, text, strlen(text), e);
}
#pragma GCC diagnostic pop

/* The example of the spec: 2 of the X group and 1 of the Y group. */
static void
test_policy__spec_example(void **state)
{
    (void)state;
    static struct policy p, q;
    struct dft_error e = {0};
    assert_int_equal(parse(&p,
                           "# comment\n"
                           "log %s https://log.example\n"
                           "witness X1 %s\n"
                           "  witness X2\t%s   https://x2.example/w  \n"
                           "witness X3 %s\n"
                           "group X-witnesses 2 X1 X2 X3\n"
                           "\n"
                           "witness Y1 %s\n"
                           "witness Y2 %s\n"
                           "witness Y3 %s\n"
                           "group Y-witnesses any Y1 Y2 Y3\n"
                           "group X-and-Y all X-witnesses Y-witnesses\n"
                           "quorum X-and-Y",
                           &e),
                     DFT_OK);
    assert_int_equal(p.nlogs, 1);
    assert_int_equal(p.nwitnesses, 6);
    assert_int_equal(p.ngroups, 3);
    assert_string_equal(p.witnesses[1].url, "https://x2.example/w");
    assert_int_equal(policy_min_cosignatures(&p), 3);
    static const struct {
        int c[6];
        int met;
    } cases[] = {
        {{1, 1, 0, 1, 0, 0}, 1}, {{1, 1, 1, 1, 1, 1}, 1}, {{1, 1, 0, 0, 0, 0}, 0},
        {{1, 0, 0, 0, 0, 1}, 0}, {{0, 0, 0, 1, 1, 1}, 0}, {{0, 1, 1, 0, 0, 1}, 1},
        {{0, 0, 0, 0, 0, 0}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(policy_met(&p, cases[i].c), cases[i].met);
    }
    /* printing gives a policy that parses to the same */
    struct dft_buf b;
    dft_buf_init(&b, 1u << 16, 0);
    assert_int_equal(policy_format(&p, &b, NULL), DFT_OK);
    assert_int_equal(policy_parse(&q, (const char *)b.data, b.len, NULL), DFT_OK);
    assert_int_equal(q.nwitnesses, 6);
    assert_int_equal(q.groups[2].k, 2);
    assert_non_null(strstr((const char *)b.data, "group Y-witnesses 1 Y1 Y2 Y3\n"));
    dft_buf_release(&b);
}

static void
test_policy__none_and_single(void **state)
{
    (void)state;
    static struct policy p;
    int none[POLICY_WITNESS_MAX] = {0};
    assert_int_equal(parse(&p, "quorum none\n", NULL), DFT_OK);
    assert_true(policy_met(&p, none));
    assert_int_equal(policy_min_cosignatures(&p), 0);
    assert_int_equal(parse(&p, "witness a %2$s\nquorum a\n", NULL), DFT_OK);
    assert_false(policy_met(&p, none));
    none[0] = 1;
    assert_true(policy_met(&p, none));
}

static void
test_policy__refusals(void **state)
{
    (void)state;
    static struct policy p;
    static const char *bad[] = {
        "",                                             /* no quorum */
        "quorum a\n",                                   /* undefined */
        "witness a %2$s\nquorum a\nquorum a\n",         /* two quorums */
        "witness a %1$s\nquorum a\n",                   /* log key as a witness */
        "log %2$s\nquorum none\n",                      /* witness key as a log */
        "witness a %2$s\nwitness a %3$s\nquorum a\n",   /* name twice */
        "witness a %2$s\nwitness b %2$s\nquorum a\n",   /* duplicate key */
        "witness none %2$s\nquorum none\n",             /* reserved name */
        "witness a %2$s\ngroup g 2 a\nquorum g\n",      /* k > n */
        "witness a %2$s\ngroup g 0 a\nquorum g\n",      /* k = 0 */
        "witness a %2$s\ngroup g 01 a\nquorum g\n",     /* leading zero */
        "witness a %2$s\ngroup g any a a\nquorum g\n",  /* member twice */
        "witness a %2$s\ngroup g any b\nquorum g\n",    /* member undefined */
        "witness a %2$s\ngroup g any\nquorum g\n",      /* no members */
        "witness a %2$s\nquorum a\nfrobnicate\n",       /* unknown keyword */
        "witness a %2$s\x01\nquorum a\n",               /* control character */
        "witness a not-a-key\nquorum a\n",              /* bad vkey */
        "witness a %2$s http://a http://b\nquorum a\n", /* too many items */
        "group g any g\nquorum g\n",                    /* self reference */
        "witness a %2$s\nquorum a b\n",                 /* quorum with two names */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dft_error e = {0};
        if (parse(&p, bad[i], &e) != DFT_ERR_INPUT) {
            fail_msg("policy %zu was accepted", i);
        }
        assert_true(strlen(e.msg) > 0);
        assert_int_equal(p.nwitnesses, 0); /* nothing half-parsed */
    }
}

static void
test_witness_req__parse_and_refusals(void **state)
{
    (void)state;
    static struct witness_req r;
    const char *note = "example.org/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
                       "\xe2\x80\x94 x AAAAAAA=\n";
    char body[1024];
    snprintf(body, sizeof body, "old 3\n%s\n%s\n\n%s",
             "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
             "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=", note);
    assert_int_equal(witness_req_parse(&r, body, strlen(body), NULL), DFT_OK);
    assert_int_equal(r.old_size, 3);
    assert_int_equal(r.nproof, 2);
    assert_int_equal(r.note_len, strlen(note));
    assert_memory_equal(r.note, note, strlen(note));
    struct dft_checkpoint c;
    assert_int_equal(witness_checkpoint_head(&c, note, strlen(note), NULL), DFT_OK);
    assert_string_equal(c.origin, "example.org/log");
    assert_int_equal(c.size, 5);
    static const char *bad[] = {
        "",
        "old 3",
        "old\n\nx\n",
        "old 03\n\nx\n",
        "old -3\n\nx\n",
        "old 3 \n\nx\n",
        "Old 3\n\nx\n",
        "old 3\nnot base64\n\nx\n",
        "old 3\nAAAA\n\nx\n",
        "old 3\n\n",
        "old 99999999999999999999\n\nx\n",
        "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\nx\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (witness_req_parse(&r, bad[i], strlen(bad[i]), NULL) == DFT_OK) {
            fail_msg("request %zu was accepted", i);
        }
    }
    /* 63 proof lines are fine, 64 are not */
    struct dft_buf b;
    unsigned char proof[64][32];
    memset(proof, 7, sizeof proof);
    dft_buf_init(&b, WITNESS_BODY_MAX, 0);
    assert_int_equal(
        witness_req_format(&b, 1, (const unsigned char(*)[32])proof, 63, note, strlen(note), NULL),
        DFT_OK);
    assert_int_equal(witness_req_parse(&r, (const char *)b.data, b.len, NULL), DFT_OK);
    assert_int_equal(r.nproof, 63);
    dft_buf_reset(&b);
    assert_int_equal(dft_buf_adds(&b, "old 1\n"), DFT_OK);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(dft_buf_adds(&b, "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"),
                         DFT_OK);
    }
    assert_int_equal(dft_buf_add(&b, "\n", 1), DFT_OK);
    assert_int_equal(dft_buf_adds(&b, note), DFT_OK);
    assert_int_equal(witness_req_parse(&r, (const char *)b.data, b.len, NULL), DFT_ERR_INPUT);
    dft_buf_release(&b);
    /* checkpoint heads: extension lines allowed, bad sizes and roots refused */
    static const struct {
        const char *text;
        enum dft_err want;
    } heads[] = {
        {"o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n", DFT_OK},
        {"o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", DFT_ERR_INPUT},
        {"o\n1\nAAAA\n", DFT_ERR_INPUT},
        {"\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", DFT_ERR_INPUT},
        {"o\x01\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", DFT_ERR_INPUT},
        {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", DFT_ERR_INPUT},
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        assert_int_equal(witness_checkpoint_head(&c, heads[i].text, strlen(heads[i].text), NULL),
                         heads[i].want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy__spec_example),
        cmocka_unit_test(test_policy__none_and_single),
        cmocka_unit_test(test_policy__refusals),
        cmocka_unit_test(test_witness_req__parse_and_refusals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
