/*
 * testutil.h - small file helpers shared by the cmocka tests (header only: each test is one
 * program built from one .c file). Temporary trees only; never used on a user's files.
 */
#ifndef DEFTER_TESTUTIL_H
#define DEFTER_TESTUTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TU_UNUSED __attribute__((unused))

/* Remove a file or a directory tree. */
static TU_UNUSED void
rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Copy one file to a new path (mode 0600); 0 or -1. */
static TU_UNUSED int
copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0600);
    char buf[65536];
    ssize_t n;
    int rc = in >= 0 && out >= 0 ? 0 : -1;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            rc = -1;
        }
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
    }
    return rc;
}

/* A whole file in malloc'd memory (NUL after it), or NULL. */
static TU_UNUSED unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b != NULL) {
        b[n] = '\0';
    }
    fclose(f);
    *len = n >= 0 ? (size_t)n : 0;
    return b;
}

/* Copy a fresh vault folder: its files, and its subfolders made empty (no evidence yet). */
static TU_UNUSED int
copy_vault(const char *from, const char *to)
{
    if (mkdir(to, 0700) != 0) {
        return -1;
    }
    DIR *d = opendir(from);
    if (d == NULL) {
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        struct stat st;
        if (stat(a, &st) != 0) {
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = mkdir(b, 0700);
        } else {
            rc = copy_file(a, b);
        }
    }
    closedir(d);
    return rc;
}

#endif
