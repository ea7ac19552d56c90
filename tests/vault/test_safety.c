/*
 * test_safety.c - defter/safety.h (src/vault/safety.c, src/bundle/share_qr.c): the passphrase
 * check of the Safety page writes nothing and accepts only the passphrase of the open
 * compartment; share words round-trip and name a typo as the CLI does; the QR code is an SVG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/safety.h"
#include "defter/vault.h"
#include "testutil.h"

static const char PASS[] = "safety test passphrase";

static void
test_safety__passphrase_check_writes_nothing(void **state)
{
    (void)state;
    char root[] = "/tmp/defter-test-safety-XXXXXX";
    char dir[600], hdr[640];
    struct dft_error err = {0};
    struct dft_vault *v = NULL;
    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/v", root);
    snprintf(hdr, sizeof hdr, "%s/header", dir);
    assert_int_equal(dft_vault_create(dir, PASS, strlen(PASS), DFT_KDF_INTERACTIVE, &err), DFT_OK);
    assert_int_equal(dft_vault_open(&v, dir, PASS, strlen(PASS), &err), DFT_OK);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(hdr, &n0);
    assert_non_null(before);
    assert_int_equal(dft_vault_passphrase_check(v, PASS, strlen(PASS), &err), DFT_OK);
    assert_int_equal(dft_vault_passphrase_check(v, "wrong", 5, &err), DFT_ERR_PASSPHRASE);
    assert_string_equal(err.msg, "wrong passphrase or damaged header");
    dft_error_clear(&err);
    assert_int_equal(dft_vault_passphrase_check(v, PASS, strlen(PASS) - 1, &err),
                     DFT_ERR_PASSPHRASE);
    dft_error_clear(&err);
    assert_int_equal(dft_vault_passphrase_check(v, "", 0, &err), DFT_ERR_PASSPHRASE);
    dft_error_clear(&err);
    unsigned char *after = slurp(hdr, &n1);
    assert_non_null(after);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    /* shares made through the open vault: words round-trip, QR is an SVG of them */
    struct dft_recovery_shares *s = NULL;
    assert_int_equal(dft_vault_recovery_split(v, 2, 3, &s, &err), DFT_OK);
    char words[DFT_SHARE_WORDS_CAP];
    unsigned char back[DFT_SHARE_BYTES];
    dft_share_words(s->share[1], words, sizeof words);
    assert_int_equal(dft_share_parse_words(back, words, "share 2", &err), DFT_OK);
    assert_memory_equal(back, s->share[1], DFT_SHARE_BYTES);
    struct dft_buf svg;
    dft_buf_init(&svg, 1u << 20, 1);
    assert_int_equal(dft_share_qr_svg(s->share[1], &svg, &err), DFT_OK);
    assert_true(svg.len > 1000);
    assert_int_equal(strncmp((const char *)svg.data, "<svg ", 5), 0);
    assert_non_null(strstr((const char *)svg.data, "</svg>"));
    dft_buf_release(&svg);
    /* a typo is named as `recovery combine` names it (word 7 replaced, as in coercion.sh) */
    char typo[DFT_SHARE_WORDS_CAP + 8] = "";
    char *save = NULL;
    int k = 0;
    for (char *w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save), k++) {
        const char *put = k != 6 ? w : strcmp(w, "zoo") != 0 ? "zoo" : "zone";
        size_t at = strlen(typo);
        snprintf(typo + at, sizeof typo - at, "%s%s", k ? " " : "", put);
    }
    assert_int_equal(k, DFT_SHARE_WORDS);
    assert_int_equal(dft_share_parse_words(back, typo, "share 2", &err), DFT_ERR_INPUT);
    assert_non_null(strstr(err.msg, "share 2"));
    assert_non_null(strstr(err.msg, "checksum"));
    dft_recovery_shares_free(s);
    dft_vault_close(v);
    rm_rf(dir);
    rmdir(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safety__passphrase_check_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
