/*
 * vault_internal.h - the vault handle, shared by the files of src/vault.
 */
#ifndef DEFTER_VAULT_INTERNAL_H
#define DEFTER_VAULT_INTERNAL_H

#include <limits.h>

#include <sqlite3.h>

#include "crypto/keys.h"
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
    unsigned refs;              /* extra holders (dft_vault_ref): close drops one (agent) */
};

/* The id prefix of a record type ("per" for person...), vault.c. */
const char *vault_type_prefix(const char *type);
#define VAULT_ID_RANDOM_BYTES 10 /* 80 random bits per id (vault.c) */
void vault_id_from_random(char *out, const char *prefix,
                          const unsigned char r[VAULT_ID_RANDOM_BYTES]);
unsigned char *vault_ids_random_sorted(size_t n);

/* A field name and a field value (at nesting depth) as a record may hold them (items.c). */
enum dft_err vault_check_field_name(const char *name, struct dft_error *err) DFT_MUST_CHECK;
enum dft_err vault_check_value(const char *field, const json_t *val, int depth,
                               struct dft_error *err) DFT_MUST_CHECK;

/* A role is 1 to 64 of [a-z0-9_-] (items.c). */
enum dft_err vault_check_role(const char *role, struct dft_error *err) DFT_MUST_CHECK;

/* The database handle and keys, for the vault's own files and white-box tests only. */
sqlite3 *vault_db(struct dft_vault *v);
const struct dft_keys *vault_keys(struct dft_vault *v);

/* Append ops (complete except v/id/ts/author, which are filled in) as one envelope. */
enum dft_err vault_commit_ops(struct dft_vault *v, json_t *ops,
                              struct dft_error *err) DFT_MUST_CHECK;
/* The same, taking the caller's reference to ops: they are released whatever the result. */
enum dft_err vault_commit_ops_owned(struct dft_vault *v, json_t *ops,
                                    struct dft_error *err) DFT_MUST_CHECK;

/*
 * The sealed log state in the header (state.c). _check runs at open: DFT_ERR_INTEGRITY when the
 * database is older than the header; a database ahead of it is sealed (best effort). _save
 * seals st under the directory lock unless the header already seals as much; _catch_up is _save
 * that logs a failure instead of returning it (after a commit, whose data is already durable).
 */
struct dft_tlog_state;
enum dft_err vault_state_check(struct dft_vault *v, struct dft_error *err) DFT_MUST_CHECK;
enum dft_err vault_state_save(struct dft_vault *v, const struct dft_tlog_state *st,
                              struct dft_error *err) DFT_MUST_CHECK;
void vault_state_catch_up(struct dft_vault *v, const struct dft_tlog_state *st);

/*
 * Check every object the vault's live evidence uses (flags: EVIDENCE_QUICK); *report gets
 * {"objects":N,"evidence":M,"quick":bool}. DFT_ERR_INTEGRITY names the first bad one
 * (evidence.c; run by dft_vault_verify).
 */
enum dft_err vault_verify_evidence(struct dft_vault *v, unsigned flags, json_t **report,
                                   struct dft_error *err) DFT_MUST_CHECK;

/* The trusted witnesses, replayed from the vault's history of DFT_WITNESS_RECORD (witness.c). */
struct dft_witness_set;
enum dft_err vault_witness_set(struct dft_vault *v, struct dft_witness_set *ws,
                               struct dft_error *err) DFT_MUST_CHECK;

/* Exclusive flock on the vault directory around header replacements; unlock(-1) is a no-op. */
enum dft_err vault_dir_lock(struct dft_vault *v, int *fd_out, struct dft_error *err) DFT_MUST_CHECK;
void vault_dir_unlock(int fd);

#endif
