/*
 * test_camouflage.c - camouflaged file names (src/vault/camouflage.c): which names are
 * accepted, how a folder's layout is found again from its names alone, and the paths of each
 * file in both layouts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "defter/coercion.h"
#include "vault/camouflage.h"
#include "vault/header.h"

static void
touch(const char *dir, const char *name, size_t size)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++) {
        fputc(0x5a, f);
    }
    fclose(f);
}

static void
rm(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
}

static void
test_camouflage__names(void **state)
{
    (void)state;
    struct dft_error err = {0};
    const char *good[] = {"holiday", "a", "photos.7z", "IMG_2019-07", "x.y.z"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(camouflage_check_name(good[i], &err), DFT_OK);
    }
    char long_name[66];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    const char *bad[] = {"", ".hidden", "a/b", "..", "header", "a b", "naïve", "x\n", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(camouflage_check_name(bad[i], &err), DFT_ERR_INPUT);
        assert_true(strstr(err.msg, "camouflage name") != NULL);
    }
    long_name[64] = '\0';
    assert_int_equal(dft_camouflage_check_name(long_name, NULL), DFT_OK);
}

static void
test_camouflage__layout_found_from_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/dft-camo-test-XXXXXX";
    struct vault_layout l;
    struct dft_error err = {0};
    char p[600];
    assert_non_null(mkdtemp(dir));
    /* empty or absent: plain */
    assert_int_equal(vault_layout_find(dir, &l, &err), DFT_OK);
    assert_string_equal(l.stem, "");
    assert_int_equal(vault_layout_find("/nonexistent/dft", &l, &err), DFT_OK);
    assert_string_equal(l.stem, "");
    /* a NAME.001 of another size, or a folder of that name, is not a header */
    touch(dir, "notes.001", 100);
    assert_int_equal(vault_layout_find(dir, &l, &err), DFT_OK);
    assert_string_equal(l.stem, "");
    assert_false(dft_vault_camouflaged(dir));
    touch(dir, "holiday.001", HEADER_DISK_BYTES);
    assert_int_equal(vault_layout_find(dir, &l, &err), DFT_OK);
    assert_string_equal(l.stem, "holiday");
    assert_true(dft_vault_camouflaged(dir));
    assert_int_equal(vault_layout_path(&l, dir, VAULT_FILE_HEADER, p, sizeof p, &err), DFT_OK);
    assert_true(strlen(p) > 12 && strcmp(p + strlen(p) - 12, "/holiday.001") == 0);
    assert_int_equal(vault_layout_path(&l, dir, VAULT_FILE_DB0, p, sizeof p, &err), DFT_OK);
    assert_true(strcmp(p + strlen(p) - 12, "/holiday.002") == 0);
    assert_int_equal(vault_layout_path(&l, dir, VAULT_FILE_DB1, p, sizeof p, &err), DFT_OK);
    assert_true(strcmp(p + strlen(p) - 12, "/holiday.003") == 0);
    assert_int_equal(vault_layout_path(&l, dir, VAULT_FILE_OBJECTS, p, sizeof p, &err), DFT_OK);
    assert_true(strcmp(p + strlen(p) - 8, "/holiday") == 0);
    /* the same layout from the header's path */
    struct vault_layout h;
    assert_int_equal(vault_layout_path(&l, dir, VAULT_FILE_HEADER, p, sizeof p, &err), DFT_OK);
    vault_layout_of_header(p, &h);
    assert_string_equal(h.stem, "holiday");
    vault_layout_of_header("/x/header", &h);
    assert_string_equal(h.stem, "");
    /* two: refused by name */
    touch(dir, "other.001", HEADER_DISK_BYTES);
    assert_int_equal(vault_layout_find(dir, &l, &err), DFT_ERR_INPUT);
    assert_true(strstr(err.msg, "several camouflaged vaults") != NULL);
    /* a plain header wins */
    touch(dir, "header", HEADER_DISK_BYTES);
    assert_int_equal(vault_layout_find(dir, &l, &err), DFT_OK);
    assert_string_equal(l.stem, "");
    assert_int_equal(vault_layout_path(&l, dir, VAULT_FILE_DB1, p, sizeof p, &err), DFT_OK);
    assert_true(strcmp(p + strlen(p) - 11, "/vault-1.db") == 0);
    rm(dir, "header");
    rm(dir, "other.001");
    rm(dir, "holiday.001");
    rm(dir, "notes.001");
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_camouflage__names),
        cmocka_unit_test(test_camouflage__layout_found_from_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
