/*
 * camouflage.h - the names of a vault's files: plain (header, vault.db, vault-1.db, objects/)
 * or camouflaged (NAME.001, NAME.002, NAME.003, NAME/), chosen at `init --camouflage NAME`.
 *
 * Internal to src/vault. A camouflaged folder holds no `header`; it is found again from the
 * one regular file NAME.001 in it (docs/coercion.md, "Camouflage"). Nothing in clear says
 * which layout a folder uses other than the names.
 */
#ifndef DEFTER_VAULT_CAMOUFLAGE_H
#define DEFTER_VAULT_CAMOUFLAGE_H

#include <stddef.h>

#include "defter/core.h"
#include "defter/crypto.h"

#define CAMO_NAME_MAX 64

enum vault_file {
    VAULT_FILE_HEADER = 0, /* header / NAME.001 */
    VAULT_FILE_DB0 = 1,    /* vault.db / NAME.002: the first compartment's database */
    VAULT_FILE_DB1 = 2,    /* vault-1.db / NAME.003: the second compartment's database */
    VAULT_FILE_OBJECTS = 3 /* objects / NAME: evidence objects of both compartments */
};

struct vault_layout {
    char stem[CAMO_NAME_MAX + 1]; /* "" for the plain layout */
};

/* A camouflage name: 1 to 64 of [A-Za-z0-9_-.], not starting with '.', not "header". */
enum dft_err camouflage_check_name(const char *name, struct dft_error *err) DFT_MUST_CHECK;

/*
 * The layout of the vault at dir: plain when dir/header exists, when dir is absent or holds no
 * NAME.001; camouflaged with stem NAME when exactly one regular file NAME.001 is there.
 * DFT_ERR_INPUT when several are.
 */
enum dft_err vault_layout_find(const char *dir, struct vault_layout *l,
                               struct dft_error *err) DFT_MUST_CHECK;

/* The layout of the vault whose header file is header_path (from its name). */
void vault_layout_of_header(const char *header_path, struct vault_layout *l);

/* dir/<name of f in l>. */
enum dft_err vault_layout_path(const struct vault_layout *l, const char *dir, enum vault_file f,
                               char *out, size_t cap, struct dft_error *err) DFT_MUST_CHECK;

/* The evidence objects directory of the vault whose header is header_path, in dir. */
enum dft_err vault_objects_path(const char *dir, const char *header_path, char *out, size_t cap,
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * Create a vault at dir (vault.c): plain names when camouflage is NULL, else the camouflaged
 * ones of that name. Both compartments are made (the second dormant, see duress.c).
 */
enum dft_err vault_create_in(const char *dir, const char *camouflage, const char *pass,
                             size_t pass_len, enum dft_kdf_level level,
                             struct dft_error *err) DFT_MUST_CHECK;

/* A compartment's empty database at path under k; its sealed log state into state (vault.c). */
struct dft_keys;
enum dft_err vault_store_create(const char *path, const struct dft_keys *k, unsigned char state[81],
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * Compartment B at init (duress.c): its keys and empty database at db1, its open slot sealed
 * into h under header_second_key (dormant until `duress set --action decoy`).
 */
struct dft_header;
enum dft_err duress_second_create(struct dft_header *h, const char *db1,
                                  struct dft_error *err) DFT_MUST_CHECK;

#endif
