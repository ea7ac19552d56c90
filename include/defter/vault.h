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

#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"
#include "defter/crypto.h"
#include "defter/evidence.h"

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

/*
 * One more holder of an open vault (the unlock agent lends its vault to each command it runs):
 * each dft_vault_ref needs one more dft_vault_close before the vault really closes. Not
 * thread-safe: holders serialise their use (src/agent/gate.c). Returns v.
 */
DFT_EXPORT struct dft_vault *dft_vault_ref(struct dft_vault *v);

/* Rewrap the keys under a new passphrase (atomic header replace); data is not re-encrypted. */
DFT_EXPORT enum dft_err dft_vault_rekey(struct dft_vault *v, const char *new_pass, size_t new_len,
                                        enum dft_kdf_level level,
                                        struct dft_error *err) DFT_MUST_CHECK;

/*
 * A new master key under a new passphrase: every database page re-encrypted, every evidence
 * header rewrapped, the log state resealed; identity and vault id kept. Crash-safe: an
 * interrupted rekey leaves the old vault or the new one (finished or undone at the next open).
 * Afterwards a copy of the old header opens nothing. v can then only be closed: open the vault
 * again to use it. Procedure: docs/vault-format.md "Rekey".
 */
DFT_EXPORT enum dft_err dft_vault_rekey_master(struct dft_vault *v, const char *new_pass,
                                               size_t new_len, enum dft_kdf_level level,
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

enum dft_verify_flags {
    DFT_VERIFY_QUICK = 1 << 0, /* evidence: header, length and last chunk only, no rehash */
};

/*
 * Check everything (`defter verify` and the UI's integrity page run this one function): every
 * page authenticates, every envelope's leaf hash, signature and selective-disclosure root, the
 * Merkle tree, the view and the search index equal ones rebuilt from the envelopes, every
 * cosigned checkpoint, and every evidence object in use decrypts to its recorded SHA-256. On
 * success *report is {"ok":true,...,"witnesses":{...},"evidence":{"objects","evidence",
 * "quick"}}; an integrity failure returns DFT_ERR_INTEGRITY naming the first problem.
 */
DFT_EXPORT enum dft_err dft_vault_verify(struct dft_vault *v, unsigned flags, json_t **report,
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

/* The vault's directory (a path; no handle or key leaves the library). */
DFT_EXPORT const char *dft_vault_dir(struct dft_vault *v);

/* ---- search (src/vault/find.c) ---- */

/*
 * Cross-script search: {"hits":[{"id","type","title","score","why"}]} best first (the
 * `defter search` contract). type may be NULL (all types). DFT_ERR_INPUT for a bad query.
 */
DFT_EXPORT enum dft_err dft_vault_search(struct dft_vault *v, const char *query, const char *type,
                                         size_t limit, json_t **out,
                                         struct dft_error *err) DFT_MUST_CHECK;
/* Candidate duplicate pairs: {"pairs":[{"a","b","a_title","b_title","score","why"}]}. */
DFT_EXPORT enum dft_err dft_vault_duplicates(struct dft_vault *v, const char *type, size_t limit,
                                             json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/* ---- merge (src/vault/merge.c) ---- */

enum dft_merge_flags {
    DFT_MERGE_UNDO = 1 << 0, /* undo the latest merge of other into keep */
};

/*
 * Fold record other into keep in one envelope (reversible; history kept), or undo it.
 * *out = {"keep","other","action":"merge"|"unmerge","ops":[op ids]}. DFT_ERR_INPUT for the
 * same record twice, deleted records, different types, or an undo with no merge to undo.
 */
DFT_EXPORT enum dft_err dft_vault_merge(struct dft_vault *v, const char *keep, const char *other,
                                        unsigned flags, json_t **out,
                                        struct dft_error *err) DFT_MUST_CHECK;

/* ---- witnesses and cosigned checkpoints (src/vault/witness.c) ---- */

#define DFT_CHECKPOINT_MAX_BYTES 65536 /* a signed note, cosignatures included */

/* {"witnesses":[{"name","key_id","vkey"}],"policy":K,"trusted":N}. */
DFT_EXPORT enum dft_err dft_vault_witnesses(struct dft_vault *v, json_t **out,
                                            struct dft_error *err) DFT_MUST_CHECK;
/*
 * Trust a witness key (a cosignature/v1 verifier key NAME+HEXID+BASE64), as one signed
 * operation: *out = {"trusted","policy","vkey","name"}. DFT_ERR_INPUT for a bad or known key.
 */
DFT_EXPORT enum dft_err dft_vault_witness_add(struct dft_vault *v, const char *vkey, json_t **out,
                                              struct dft_error *err) DFT_MUST_CHECK;
/* Require k cosignatures (k <= trusted witnesses): *out = {"trusted","policy"}. */
DFT_EXPORT enum dft_err dft_vault_witness_policy(struct dft_vault *v, uint64_t k, json_t **out,
                                                 struct dft_error *err) DFT_MUST_CHECK;
/*
 * Keep a checkpoint of this log cosigned by trusted witnesses: *out = {"size","cosignatures",
 * "added","policy","policy_met","trusted"}. Errors as docs/log-format.md describes.
 */
DFT_EXPORT enum dft_err dft_vault_checkpoint_import(struct dft_vault *v, const char *note,
                                                    size_t len, json_t **out,
                                                    struct dft_error *err) DFT_MUST_CHECK;
/* Append the kept cosigned checkpoint of the largest size (DFT_ERR_NOT_FOUND: none). */
DFT_EXPORT enum dft_err dft_vault_checkpoint_cosigned(struct dft_vault *v, struct dft_buf *out,
                                                      struct dft_error *err) DFT_MUST_CHECK;
/* Append the signed checkpoint of the current tree; *size (may be NULL) gets its size. */
DFT_EXPORT enum dft_err dft_vault_checkpoint_current(struct dft_vault *v, struct dft_buf *out,
                                                     uint64_t *size,
                                                     struct dft_error *err) DFT_MUST_CHECK;

/* ---- asking witnesses (src/vault/witness_ops.c) ---- */

/*
 * `witness add VKEY URL`: trust the key (when new, one signed operation) and remember where to
 * ask it. *out = {"vkey","name","url","trusted","policy"}. DFT_ERR_INPUT for a key that is not
 * a cosignature/v1 key or a URL that is not http(s).
 */
DFT_EXPORT enum dft_err dft_vault_witness_add_url(struct dft_vault *v, const char *vkey,
                                                  const char *url, json_t **out,
                                                  struct dft_error *err) DFT_MUST_CHECK;
/*
 * The witness policy (docs/witnesses.md): text non-NULL sets it from a policy file (its
 * witnesses trusted and K signed as operations, URLs remembered); NULL reads it. *out =
 * {"policy": the policy as text, "from_file", "trusted", "witnesses", "min_cosignatures"}.
 */
DFT_EXPORT enum dft_err dft_vault_witness_policy_text(struct dft_vault *v, const char *text,
                                                      size_t n, json_t **out,
                                                      struct dft_error *err) DFT_MUST_CHECK;
/*
 * `checkpoint --cosign`: ask every trusted witness with a URL to cosign the current
 * checkpoint, keep what verified. *out = {"size","cosignatures","quorum_met","fork",
 * "witnesses":[{"name","url","result":"cosigned|fork|failed","http","timestamp"|"message"}]}.
 * A witness that fails or reports a fork is in *out, not an error.
 */
DFT_EXPORT enum dft_err dft_vault_cosign(struct dft_vault *v, json_t **out,
                                         struct dft_error *err) DFT_MUST_CHECK;
/*
 * The record's proof in the tlog-proof format (c2sp.org/tlog-proof), against the largest kept
 * cosigned checkpoint that covers it, else the log's own checkpoint. Appends to out; *info =
 * {"cosigned","index"}.
 */
DFT_EXPORT enum dft_err dft_vault_tlog_proof(struct dft_vault *v, const char *id,
                                             struct dft_buf *out, json_t **info,
                                             struct dft_error *err) DFT_MUST_CHECK;

/* ---- evidence (src/vault/evidence.c) ---- */

/*
 * Import every file of paths into the vault's objects and record one "evidence" operation per
 * file on record (all in one envelope): all or none. *out gets [{"id","sha256","size"}] in
 * input order. On failure no operation is recorded and objects this call created are removed.
 * DFT_ERR_NOT_FOUND when record does not exist.
 */
DFT_EXPORT enum dft_err dft_vault_attach(struct dft_vault *v, const char *record,
                                         const char *const *paths, size_t n,
                                         dft_progress_fn progress, void *progress_ctx, json_t **out,
                                         struct dft_error *err) DFT_MUST_CHECK;
/*
 * Decrypt evidence evid to out_path, checked against the SHA-256 recorded at import, and record
 * a custody operation {"event":"extract"}. On failure nothing is left at out_path or beside it.
 * sha_out may be NULL.
 */
DFT_EXPORT enum dft_err dft_vault_extract(struct dft_vault *v, const char *evid,
                                          const char *out_path, dft_progress_fn progress,
                                          void *progress_ctx, unsigned char sha_out[DFT_HASH_BYTES],
                                          struct dft_error *err) DFT_MUST_CHECK;
/*
 * A streamed upload: a writer of at most max bytes into the vault's objects (see
 * dft_evidence_writer_write). It needs no key until dft_vault_upload_finish, which places the
 * object and records it on record as name (one "evidence" operation), frees w in every case,
 * and on failure leaves no object it created. *out = {"id","sha256","size","mime"}.
 */
DFT_EXPORT enum dft_err dft_vault_upload_open(struct dft_vault *v, uint64_t max,
                                              struct dft_evidence_writer **out,
                                              struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_vault_upload_finish(struct dft_vault *v, struct dft_evidence_writer *w,
                                                const char *record, const char *name, json_t **out,
                                                struct dft_error *err) DFT_MUST_CHECK;
/*
 * Open evidence evid for reading (dft_evidence_read, range requests): DFT_ERR_INTEGRITY when
 * the object does not authenticate or its SHA-256 differs from the record's.
 */
DFT_EXPORT enum dft_err dft_vault_evidence_open(struct dft_vault *v, const char *evid,
                                                struct dft_evidence_obj **out,
                                                struct dft_error *err) DFT_MUST_CHECK;
/* Record a chain-of-custody event ("view", "download"...) on evid, with via (may be NULL). */
DFT_EXPORT enum dft_err dft_vault_custody(struct dft_vault *v, const char *evid, const char *event,
                                          const char *via, struct dft_error *err) DFT_MUST_CHECK;

/* ---- operations ---- */

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
