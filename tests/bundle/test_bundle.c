/*
 * test_bundle.c - bundles end to end in one process: export from a real vault, verify from
 * memory, then every single-byte change and every truncation of the bundle must fail with
 * DFT_ERR_INTEGRITY and one line; plans leave privileged notes out; exports are deterministic;
 * the tlog-proof parser takes what it writes and refuses the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "defter/bundle.h"
#include "defter/crypto.h"
#include "defter/evidence.h"
#include "log/tlog.h"
#include "defter/vault.h"

static const char pass[] = "bundle test passphrase";

struct fixture {
    char root[64];
    char dir[128];
    char zip[128];
    struct dft_vault *v;
    char case_id[DFT_ID_MAX];
    unsigned char *bundle;
    size_t len;
};

static int
group_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct dft_error err = {0};
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(fx->root, sizeof fx->root, "/tmp/dft-bundle-XXXXXX");
    if (mkdtemp(fx->root) == NULL) {
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "%s/vault", fx->root);
    snprintf(fx->zip, sizeof fx->zip, "%s/b.zip", fx->root);
    json_error_t jerr;
    json_t *items = json_loads(
        "{\"records\":[{\"key\":\"c\",\"type\":\"case\",\"title\":\"Case A\",\"summary\":\"s\"},"
        "{\"key\":\"p\",\"type\":\"person\",\"name\":\"Ayse Witness\",\"birth_date\":\"1970\"},"
        "{\"key\":\"n\",\"type\":\"note\",\"text\":\"privileged strategy\",\"privileged\":true}],"
        "\"links\":[[\"p\",\"c\",\"witness\"],[\"n\",\"c\",\"note\"]]}",
        0, &jerr);
    json_t *ids = NULL, *out = NULL;
    char evpath[160];
    snprintf(evpath, sizeof evpath, "%s/ev.txt", fx->root);
    FILE *f = fopen(evpath, "w");
    fputs("a small evidence file\n", f);
    fclose(f);
    const char *paths[1] = {evpath};
    if (dft_vault_create(fx->dir, pass, strlen(pass), DFT_KDF_INTERACTIVE, &err) != DFT_OK ||
        dft_vault_open(&fx->v, fx->dir, pass, strlen(pass), &err) != DFT_OK ||
        dft_vault_add(fx->v, items, &ids, &err) != DFT_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    snprintf(fx->case_id, sizeof fx->case_id, "%s", json_string_value(json_array_get(ids, 0)));
    if (dft_vault_attach(fx->v, fx->case_id, paths, 1, NULL, NULL, &out, &err) != DFT_OK) {
        fprintf(stderr, "attach: %s\n", err.msg);
        return -1;
    }
    struct dft_bundle_selection sel = {fx->case_id, NULL, "court", 0};
    if (dft_bundle_export(fx->v, &sel, fx->zip, NULL, &err) != DFT_OK) {
        fprintf(stderr, "export: %s\n", err.msg);
        return -1;
    }
    fx->bundle = slurp(fx->zip, &fx->len);
    json_decref(items);
    json_decref(ids);
    json_decref(out);
    *state = fx;
    return fx->bundle != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
    struct fixture *fx = *state;
    dft_vault_close(fx->v);
    rm_rf(fx->root);
    free(fx->bundle);
    free(fx);
    return 0;
}

static void
test_round_trip(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    json_t *report = NULL;
    assert_int_equal(dft_bundle_verify_buffer(fx->bundle, fx->len, NULL, &report, &err), DFT_OK);
    assert_true(json_is_true(json_object_get(report, "ok")));
    /* case and witness, not the privileged note */
    assert_int_equal(json_array_size(json_object_get(report, "records")), 2);
    assert_int_equal(json_array_size(json_object_get(report, "evidence")), 1);
    json_decref(report);
    assert_int_equal(dft_bundle_verify(fx->zip, NULL, &report, &err), DFT_OK);
    json_decref(report);
    assert_null(memmem(fx->bundle, fx->len, "privileged strategy", 19));
}

static void
test_deterministic(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    char again[160];
    snprintf(again, sizeof again, "%s/again.zip", fx->root);
    struct dft_bundle_selection sel = {fx->case_id, NULL, "court", 0};
    assert_int_equal(dft_bundle_export(fx->v, &sel, again, NULL, &err), DFT_OK);
    size_t n = 0;
    unsigned char *b = slurp(again, &n);
    assert_non_null(b);
    assert_int_equal(n, fx->len);
    assert_memory_equal(b, fx->bundle, n);
    free(b);
}

static void
test_plan(void **state)
{
    struct fixture *fx = *state;
    struct dft_error err = {0};
    json_t *plan = NULL;
    struct dft_bundle_selection sel = {fx->case_id, NULL, "diplomatic", 0};
    assert_int_equal(dft_bundle_plan(fx->v, &sel, &plan, &err), DFT_OK);
    assert_int_equal(json_array_size(json_object_get(plan, "dropped")), 1);
    size_t i;
    json_t *r;
    int masked = 0;
    json_array_foreach(json_object_get(plan, "records"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "type")), "person") == 0) {
            masked = json_is_true(json_object_get(r, "masked"));
        }
    }
    assert_true(masked);
    json_decref(plan);
    sel.profile = "nonsense";
    assert_int_equal(dft_bundle_plan(fx->v, &sel, &plan, &err), DFT_ERR_INPUT);
}

/* Every single-byte change of the bundle fails cleanly. */
static void
test_every_byte(void **state)
{
    struct fixture *fx = *state;
    unsigned char *m = malloc(fx->len);
    assert_non_null(m);
    for (size_t i = 0; i < fx->len; i++) {
        struct dft_error err = {0};
        memcpy(m, fx->bundle, fx->len);
        m[i] ^= (unsigned char)(i % 2 == 0 ? 0x01 : 0x80);
        enum dft_err rc = dft_bundle_verify_buffer(m, fx->len, NULL, NULL, &err);
        if (rc != DFT_ERR_INTEGRITY || err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL) {
            fail_msg("byte %zu: rc %d '%s'", i, rc, err.msg);
        }
    }
    free(m);
}

static void
test_truncations(void **state)
{
    struct fixture *fx = *state;
    for (size_t n = 0; n < fx->len; n++) {
        struct dft_error err = {0};
        assert_int_equal(dft_bundle_verify_buffer(fx->bundle, n, NULL, NULL, &err),
                         DFT_ERR_INTEGRITY);
    }
}

static void
test_tlog_proof(void **state)
{
    (void)state;
    struct dft_error err = {0};
    struct dft_buf b;
    dft_buf_init(&b, 1 << 20, 0);
    unsigned char h[2][32];
    memset(h, 7, sizeof h);
    const char note[] = "origin\n1\nAAAA\n\n\xe2\x80\x94 origin AAAA\n";
    assert_int_equal(
        dft_tlog_proof_format(&b, 5, (const unsigned char(*)[32])h, 2, note, strlen(note), &err),
        DFT_OK);
    struct dft_tlog_proof p;
    assert_int_equal(dft_tlog_proof_parse(&p, (const char *)b.data, b.len, &err), DFT_OK);
    assert_int_equal(p.index, 5);
    assert_int_equal(p.n, 2);
    assert_memory_equal(p.hashes[1], h[1], 32);
    assert_int_equal(p.checkpoint_len, strlen(note));
    static const char *const bad[] = {
        "",
        "c2sp.org/tlog-proof@v1\n",
        "c2sp.org/tlog-proof@v2\nindex 1\n\nx",
        "c2sp.org/tlog-proof@v1\nindex 01\n\nx",
        "c2sp.org/tlog-proof@v1\nindex -1\n\nx",
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx",
        "c2sp.org/tlog-proof@v1\nindex 1\n",
        "c2sp.org/tlog-proof@v1\nindex 1\n\n",
        "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx",
        "c2sp.org/tlog-proof@v1\nindex 99999999999999999999\n\nx",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(dft_tlog_proof_parse(&p, bad[i], strlen(bad[i]), &err), DFT_OK);
    }
    const char extra[] = "c2sp.org/tlog-proof@v1\nextra AAAA\nindex 1\n\nx";
    assert_int_equal(dft_tlog_proof_parse(&p, extra, strlen(extra), &err), DFT_OK);
    dft_buf_release(&b);
}

int
main(void)
{
    struct dft_error err = {0};
    if (dft_crypto_init(&err) != DFT_OK) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_plan),        cmocka_unit_test(test_tlog_proof),
        cmocka_unit_test(test_truncations), cmocka_unit_test(test_every_byte),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
