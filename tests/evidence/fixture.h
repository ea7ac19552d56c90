/*
 * fixture.h - the temporary vault folders and keys shared by the evidence tests.
 *
 * Include after cmocka.h. Each test gets a fresh directory (objects/, an input path, an output
 * directory) and random keys; teardown removes it all and clears any fault hook.
 */
#ifndef DEFTER_TESTS_EVIDENCE_FIXTURE_H
#define DEFTER_TESTS_EVIDENCE_FIXTURE_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "evidence/evidence.h"
#include "testutil.h" /* slurp: a whole file in memory */

struct fx {
    char root[256];    /* temporary directory */
    char objects[300]; /* root/objects */
    char in[300];      /* root/in */
    char out[300];     /* root/out/file */
    char outdir[300];  /* root/out */
    struct dft_keys *keys;
};

/* Write a whole file; the test fails if it cannot. */
static inline void
fx_write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n > 0) {
        assert_int_equal(fwrite(p, 1, n, fp), n);
    }
    assert_int_equal(fclose(fp), 0);
}

static inline int
fx_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(dft_crypto_init(NULL), DFT_OK);
    const char *t = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/dft-evd-XXXXXX", t ? t : "/tmp");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->objects, sizeof f->objects, "%s/objects", f->root);
    snprintf(f->in, sizeof f->in, "%s/in", f->root);
    snprintf(f->outdir, sizeof f->outdir, "%s/out", f->root);
    snprintf(f->out, sizeof f->out, "%s/out/file", f->root);
    assert_int_equal(mkdir(f->outdir, 0700), 0);
    f->keys = keys_new();
    assert_non_null(f->keys);
    randombytes_buf(f->keys->master, sizeof f->keys->master);
    keys_derive(f->keys);
    *state = f;
    return 0;
}

static inline int
teardown(void **state)
{
    struct fx *f = *state;
    evidence_fault_set(0, 0);
    nftw(f->root, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    keys_free(f->keys);
    free(f);
    return 0;
}

/* n random bytes (one spare byte allocated); the caller frees. */
static inline unsigned char *
random_data(size_t n)
{
    unsigned char *p = malloc(n + 1);
    assert_non_null(p);
    randombytes_buf(p, n);
    return p;
}

/* Regular files under dir (recursively). */
static inline int
count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char p[600];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        int m = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (m > 0 && (size_t)m < sizeof p && lstat(p, &st) == 0) {
            n += S_ISDIR(st.st_mode) ? count_files(p) : 1;
        }
    }
    closedir(d);
    return n;
}

#endif
