/*
 * camouflage.c - plain or camouflaged file names of a vault (camouflage.h).
 *
 * A camouflaged vault's files are NAME.001 (the header), NAME.002 and NAME.003 (the two
 * compartments' databases) and the folder NAME (evidence objects). Their contents are what a
 * plain vault holds: a header and databases that look like random bytes. The layout is found
 * again from the names alone, so every command works on the folder unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "defter/coercion.h"
#include "defter/vault.h"
#include "vault/camouflage.h"
#include "vault/fsutil.h"
#include "vault/header.h"

#define CAMO_HEADER_EXT ".001"

enum dft_err
camouflage_check_name(const char *name, struct dft_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > CAMO_NAME_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "the camouflage name must have 1 to %d characters",
                        CAMO_NAME_MAX);
    }
    if (name[0] == '.' || strcmp(name, DFT_VAULT_HEADER_FILE) == 0) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "the camouflage name must not start with '.' or be 'header'");
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "the camouflage name may hold only letters A-Z a-z, digits, '_', "
                            "'-' and '.'");
        }
    }
    return DFT_OK;
}

/* The stem of a NAME.001 entry, or 0. */
static int
stem_of(const char *entry, char stem[CAMO_NAME_MAX + 1])
{
    size_t n = strlen(entry), e = sizeof CAMO_HEADER_EXT - 1;
    if (n <= e || n - e > CAMO_NAME_MAX || strcmp(entry + n - e, CAMO_HEADER_EXT) != 0) {
        return 0;
    }
    memcpy(stem, entry, n - e);
    stem[n - e] = '\0';
    return camouflage_check_name(stem, NULL) == DFT_OK;
}

enum dft_err
vault_layout_find(const char *dir, struct vault_layout *l, struct dft_error *err)
{
    char p[PATH_MAX];
    struct stat st;
    memset(l, 0, sizeof *l);
    if (dft_path_join(p, sizeof p, dir, DFT_VAULT_HEADER_FILE, NULL) == DFT_OK &&
        lstat(p, &st) == 0) {
        return DFT_OK;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return DFT_OK; /* absent or unreadable: the plain names say so later */
    }
    struct dirent *e;
    char stem[CAMO_NAME_MAX + 1];
    int found = 0;
    while ((e = readdir(d)) != NULL) {
        if (!stem_of(e->d_name, stem) ||
            dft_path_join(p, sizeof p, dir, e->d_name, NULL) != DFT_OK || lstat(p, &st) != 0 ||
            !S_ISREG(st.st_mode) || st.st_size != HEADER_DISK_BYTES) {
            continue;
        }
        if (found++ == 0) {
            memcpy(l->stem, stem, sizeof stem);
        }
    }
    closedir(d);
    if (found > 1) {
        memset(l, 0, sizeof *l);
        return dft_fail(err, DFT_ERR_INPUT,
                        "'%s' holds several camouflaged vaults (files NAME%s): keep one per "
                        "folder",
                        dir, CAMO_HEADER_EXT);
    }
    return DFT_OK;
}

void
vault_layout_of_header(const char *header_path, struct vault_layout *l)
{
    const char *s = strrchr(header_path, '/');
    const char *base = s != NULL ? s + 1 : header_path;
    memset(l, 0, sizeof *l);
    if (strcmp(base, DFT_VAULT_HEADER_FILE) != 0 && !stem_of(base, l->stem)) {
        l->stem[0] = '\0';
    }
}

enum dft_err
vault_layout_path(const struct vault_layout *l, const char *dir, enum vault_file f, char *out,
                  size_t cap, struct dft_error *err)
{
    static const char *const plain[] = {DFT_VAULT_HEADER_FILE, DFT_VAULT_DB_FILE,
                                        HEADER_STORE1_FILE, DFT_VAULT_OBJECTS_DIR};
    static const char *const ext[] = {CAMO_HEADER_EXT, ".002", ".003", ""};
    char name[CAMO_NAME_MAX + 8];
    if (l->stem[0] == '\0') {
        return dft_path_join(out, cap, dir, plain[f], err);
    }
    snprintf(name, sizeof name, "%s%s", l->stem, ext[f]);
    return dft_path_join(out, cap, dir, name, err);
}

enum dft_err
vault_objects_path(const char *dir, const char *header_path, char *out, size_t cap,
                   struct dft_error *err)
{
    struct vault_layout l;
    vault_layout_of_header(header_path, &l);
    return vault_layout_path(&l, dir, VAULT_FILE_OBJECTS, out, cap, err);
}

enum dft_err
dft_vault_create_camouflaged(const char *dir, const char *name, const char *pass, size_t pass_len,
                             enum dft_kdf_level level, struct dft_error *err)
{
    return vault_create_in(dir, name, pass, pass_len, level, err);
}

enum dft_err
dft_camouflage_check_name(const char *name, struct dft_error *err)
{
    return camouflage_check_name(name, err);
}

int
dft_vault_camouflaged(const char *dir)
{
    struct vault_layout l;
    return vault_layout_find(dir, &l, NULL) == DFT_OK && l.stem[0] != '\0';
}
