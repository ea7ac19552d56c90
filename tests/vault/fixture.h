/*
 * fixture.h - a fresh copy of a template vault for each vault test (Argon2id is slow, so each
 * test program creates its template vaults once and every test opens a copy).
 *
 * Include after cmocka.h and testutil.h. Temporary trees only.
 */
#ifndef DEFTER_TESTS_VAULT_FIXTURE_H
#define DEFTER_TESTS_VAULT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "defter/vault.h"

/* Copy tmpl to root/copyN (N: the next of *copies) into dir, and open it; 0 on success. */
static TU_UNUSED int
vault_copy_open(const char *root, const char *tmpl, int *copies, char *dir, size_t dir_max,
                const char *pass, struct dft_vault **v)
{
    struct dft_error err = {0};
    char base[256]; /* root and dir may sit in one struct: snprintf must not read what it writes */
    snprintf(base, sizeof base, "%s", root);
    int w = snprintf(dir, dir_max, "%s/copy%d", base, (*copies)++);
    if (w < 0 || (size_t)w >= dir_max) {
        fprintf(stderr, "open copy: the path is too long\n");
        return -1;
    }
    if (copy_vault(tmpl, dir) != 0 || dft_vault_open(v, dir, pass, strlen(pass), &err) != DFT_OK) {
        fprintf(stderr, "open copy: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Close a copy opened by vault_copy_open and remove its folder. */
static TU_UNUSED void
vault_copy_close(struct dft_vault **v, const char *dir)
{
    dft_vault_close(*v);
    *v = NULL;
    rm_rf(dir);
}

/* The transparency log's size (envelopes committed). */
static TU_UNUSED json_int_t
vault_log_size(struct dft_vault *v)
{
    json_t *log = NULL;
    assert_int_equal(dft_vault_log(v, 0, 0, &log, NULL), DFT_OK);
    json_int_t n = json_integer_value(json_object_get(log, "size"));
    json_decref(log);
    return n;
}

/* verify passes (its message printed if not). */
static TU_UNUSED void
vault_assert_verifies(struct dft_vault *v)
{
    struct dft_error err = {0};
    json_t *report = NULL;
    enum dft_err rc = dft_vault_verify(v, 0, &report, &err);
    if (rc != DFT_OK) {
        print_error("verify: %s\n", err.msg);
    }
    assert_int_equal(rc, DFT_OK);
    json_decref(report);
}

/* 1 if id is among the first limit hits of a search for query. */
static TU_UNUSED int
vault_found(struct dft_vault *v, const char *query, const char *id, size_t limit)
{
    struct dft_error err = {0};
    json_t *out = NULL;
    assert_int_equal(dft_vault_search(v, query, NULL, limit, &out, &err), DFT_OK);
    size_t i;
    json_t *h;
    int hit = 0;
    json_array_foreach(json_object_get(out, "hits"), i, h)
    {
        hit |= strcmp(json_string_value(json_object_get(h, "id")), id) == 0;
    }
    json_decref(out);
    return hit;
}

#endif
