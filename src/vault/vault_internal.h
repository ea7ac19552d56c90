/*
 * vault_internal.h - the vault handle, shared by the files of src/vault.
 */
#ifndef DEFTER_VAULT_INTERNAL_H
#define DEFTER_VAULT_INTERNAL_H

#include <limits.h>

#include "defter/vault.h"
#include "vault/header.h"

struct dft_vault {
    char dir[PATH_MAX];         /* vault directory */
    char header_path[PATH_MAX]; /* dir/header */
    char db_path[PATH_MAX];     /* dir/vault.db */
    struct dft_keys *keys;      /* sodium_malloc'd; wiped on close */
    struct dft_header header;   /* public header fields and wrapped keys */
    sqlite3 *db;                /* encrypted database */
    char author[64];            /* base64 of the signing public key */
};

/* Append ops (complete except v/id/ts/author, which are filled in) as one envelope. */
enum dft_err dft_vault_commit_ops(struct dft_vault *v, json_t *ops,
                                  struct dft_error *err) DFT_MUST_CHECK;

#endif
