/*
 * vault.h - a Defter vault: header with wrapped keys, encrypted database, signed operation log.
 *
 * The source of truth is the append-only table of envelopes (one signed, sealed envelope per
 * command; a batch puts many operations in one envelope). Records, relations, history and the
 * search index are a view rebuilt from the envelopes (dft_vault_verify does so and compares).
 * Records go in and out as jansson objects, fields named as in DESIGN.md.
 *
 * Ownership: json_t results are new references the caller must json_decref. Inputs are
 * borrowed. Every function leaves the vault unchanged on failure (one SQLite transaction).
 */
#ifndef DEFTER_VAULT_H
#define DEFTER_VAULT_H

#include <jansson.h>
#include <sqlite3.h>

#include "defter/core.h"
#include "defter/crypto.h"

#define DFT_ID_MAX          48 /* ids are short ASCII: "per_" + 16 base32 characters */
#define DFT_PASSPHRASE_MAX  1024
#define DFT_BATCH_MAX       1000000   /* operations in one envelope */
#define DFT_FIELD_VALUE_MAX (1 << 20) /* bytes of one field value */

struct dft_vault;

/* Files inside a vault directory. */
#define DFT_VAULT_HEADER_FILE "header"
#define DFT_VAULT_DB_FILE     "vault.db"
#define DFT_VAULT_OBJECTS_DIR "objects"

/* Create a vault in dir (created if missing; must be empty or absent). */
DFT_EXPORT enum dft_err dft_vault_create(const char *dir, const char *pass, size_t pass_len,
                                         enum dft_kdf_level level,
                                         struct dft_error *err) DFT_MUST_CHECK;

/* Unlock. DFT_ERR_PASSPHRASE on a wrong passphrase, DFT_ERR_INTEGRITY on a damaged vault. */
DFT_EXPORT enum dft_err dft_vault_open(struct dft_vault **out, const char *dir, const char *pass,
                                       size_t pass_len, struct dft_error *err) DFT_MUST_CHECK;

/* Close and wipe every key. NULL allowed. */
DFT_EXPORT void dft_vault_close(struct dft_vault *v);

/* Rewrap the keys under a new passphrase (atomic header replace); data is not re-encrypted. */
DFT_EXPORT enum dft_err dft_vault_rekey(struct dft_vault *v, const char *new_pass, size_t new_len,
                                        enum dft_kdf_level level,
                                        struct dft_error *err) DFT_MUST_CHECK;

/* The 8 record types, and whether a name is one of them. */
DFT_EXPORT int dft_record_type_valid(const char *type);
DFT_EXPORT const char *const *dft_record_types(void); /* NULL-terminated */

/*
 * Add records. items is a JSON array of objects {"type": T, FIELD: VALUE, ...} (the
 * `add --from-json` format); all are written in one envelope and one transaction. *ids_out
 * receives a new JSON array of the new ids in input order.
 */
DFT_EXPORT enum dft_err dft_vault_add(struct dft_vault *v, const json_t *items, json_t **ids_out,
                                      struct dft_error *err) DFT_MUST_CHECK;

/*
 * Every input check of dft_vault_add, without a vault: items in the `add --from-json` format
 * become the operations dft_vault_add would sign (create and link, without v, id, ts and author)
 * in *ops_out and the new record ids in *ids_out (new references; either may be NULL). Bad input
 * gives DFT_ERR_INPUT or DFT_ERR_TOO_LARGE, as dft_vault_add.
 */
DFT_EXPORT enum dft_err dft_vault_check_items(const json_t *items, json_t **ops_out,
                                              json_t **ids_out,
                                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * `defter add TYPE --from-json`: give every element of items (either form) that names no
 * "type" the type type. DFT_ERR_INPUT, with items unchanged, when type is not a record type or
 * an element names another type.
 */
DFT_EXPORT enum dft_err dft_vault_items_type(json_t *items, const char *type,
                                             struct dft_error *err) DFT_MUST_CHECK;

/*
 * Change fields of a record: each key of fields is set to its value; a JSON null removes the
 * field. "type" cannot change.
 */
DFT_EXPORT enum dft_err dft_vault_edit(struct dft_vault *v, const char *id, const json_t *fields,
                                       struct dft_error *err) DFT_MUST_CHECK;

/* Mark a record (or a link) deleted; history is kept. */
DFT_EXPORT enum dft_err dft_vault_delete(struct dft_vault *v, const char *id,
                                         struct dft_error *err) DFT_MUST_CHECK;

/* Relate two records with a role; writes the new link id (DFT_ID_MAX bytes) to id_out. */
DFT_EXPORT enum dft_err dft_vault_link(struct dft_vault *v, const char *from, const char *to,
                                       const char *role, char *id_out,
                                       struct dft_error *err) DFT_MUST_CHECK;

enum dft_show_flags {
    DFT_SHOW_HISTORY = 1 << 0, /* include the record's operations, oldest first */
};

/*
 * One record: {"id","type","title","fields":{...},"created","updated","relations":[...],
 * "evidence":[...], "history":[...]}. DFT_ERR_NOT_FOUND for an unknown id.
 */
DFT_EXPORT enum dft_err dft_vault_show(struct dft_vault *v, const char *id, unsigned flags,
                                       json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/* Records (not deleted) of a type (NULL: all), ordered by type then title: [{"id","type","title"}].
 */
DFT_EXPORT enum dft_err dft_vault_list(struct dft_vault *v, const char *type, json_t **out,
                                       struct dft_error *err) DFT_MUST_CHECK;

/*
 * The log: {"size":N,"entries":[{"index","leaf_hash","records","action","author","ts"}]} from
 * index since; with_envelopes adds "envelope" (base64 of the stored bytes).
 */
DFT_EXPORT enum dft_err dft_vault_log(struct dft_vault *v, uint64_t since, int with_envelopes,
                                      json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Check everything: every page authenticates, every envelope's leaf hash, signature and
 * selective-disclosure root, and the view equals one rebuilt from the envelopes. On success
 * *report is {"ok":true,...}; an integrity failure returns DFT_ERR_INTEGRITY naming the first
 * problem.
 */
DFT_EXPORT enum dft_err dft_vault_verify(struct dft_vault *v, json_t **report,
                                         struct dft_error *err) DFT_MUST_CHECK;

/* {"vkey","sign_pub","box_pub","origin","vault_id"}. */
DFT_EXPORT enum dft_err dft_vault_identity(struct dft_vault *v, json_t **out,
                                           struct dft_error *err) DFT_MUST_CHECK;

/* The signed checkpoint (C2SP signed note) of the log at size leaves, appended to out. */
DFT_EXPORT enum dft_err dft_vault_checkpoint(struct dft_vault *v, uint64_t size,
                                             struct dft_buf *out,
                                             struct dft_error *err) DFT_MUST_CHECK;

/*
 * Inclusion proof of the latest envelope touching id in the current tree:
 * {"index","size","leaf_hash","proof":[...],"checkpoint"} (the `defter prove ID` contract).
 */
DFT_EXPORT enum dft_err dft_vault_prove(struct dft_vault *v, const char *id, json_t **out,
                                        struct dft_error *err) DFT_MUST_CHECK;

/* Consistency proof: {"old_size","new_size","old_root","new_root","proof":[...]}. */
DFT_EXPORT enum dft_err dft_vault_prove_consistency(struct dft_vault *v, uint64_t old_size,
                                                    uint64_t new_size, json_t **out,
                                                    struct dft_error *err) DFT_MUST_CHECK;

/* ---- for other subsystems (evidence, log, search, UI) ---- */

DFT_EXPORT sqlite3 *dft_vault_db(struct dft_vault *v);
DFT_EXPORT const struct dft_keys *dft_vault_keys(struct dft_vault *v);
DFT_EXPORT const char *dft_vault_dir(struct dft_vault *v);

/*
 * Append operations in one envelope, in one transaction. ops is an array of objects with
 * "record" (id), "action" and optional "type", "fields", "to" (second record a link touches):
 * the vault adds v, id, ts and author, signs, seals, stores, and applies them to the view.
 * ids_out (may be NULL) receives the op ids. For subsystems that define new actions
 * (evidence, custody, merge); the view applies known actions and keeps the rest in history.
 */
DFT_EXPORT enum dft_err dft_vault_append_ops(struct dft_vault *v, const json_t *ops,
                                             json_t **ids_out,
                                             struct dft_error *err) DFT_MUST_CHECK;

/* A fresh random id with the given prefix ("per", "evd"...), written to out (DFT_ID_MAX). */
DFT_EXPORT void dft_vault_new_id(char *out, const char *prefix);

#endif
