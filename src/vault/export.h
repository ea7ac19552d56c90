/*
 * export.h - what a bundle export reads from a vault (src/vault/export.c).
 *
 * The bundle layer (src/bundle/) builds a bundle from these calls alone: it never sees the
 * database or a key. Every function only reads; none changes the vault. JSON results are new
 * references the caller must json_decref.
 */
#ifndef DEFTER_VAULT_EXPORT_H
#define DEFTER_VAULT_EXPORT_H

#include <jansson.h>

#include "defter/core.h"
#include "defter/evidence.h"
#include "defter/vault.h"

/*
 * The records a bundle shows. With case_id: the case, every live record linked to it (either
 * direction) and every live record linked to one of its proceedings (hearings, judges...);
 * otherwise the records listed in ids (a JSON array of strings). *out:
 * {"records":[{"id","type","fields"}], sorted by id; "evidence":[{"id","record","object",
 * "sha256","size","name","mime"}] (live evidence of those records), sorted by id;
 * "links":[{"id","src","dst","role"}] (every live link touching a selected record)}.
 * DFT_ERR_NOT_FOUND for an unknown or deleted id, DFT_ERR_INPUT for a case_id of another type.
 */
enum dft_err dft_vault_export_select(struct dft_vault *v, const char *case_id, const json_t *ids,
                                     json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/* Every operation touching id, in log order: [{"index","seq","op"}] (seq: place in the envelope).
 */
enum dft_err dft_vault_export_history(struct dft_vault *v, const char *id, json_t **out,
                                      struct dft_error *err) DFT_MUST_CHECK;

/* The stored bytes of envelope index, appended to out. */
enum dft_err dft_vault_export_envelope(struct dft_vault *v, uint64_t index, struct dft_buf *out,
                                       struct dft_error *err) DFT_MUST_CHECK;

/*
 * One envelope opened for many disclosures: decrypted and checked once, its operation hashes
 * computed once (a batch envelope of n operations would otherwise cost n^2). Holds decrypted
 * operations and salt keys in memory until dft_export_env_free.
 */
struct dft_export_env;
enum dft_err dft_vault_export_open(struct dft_vault *v, uint64_t index, struct dft_export_env **out,
                                   struct dft_error *err) DFT_MUST_CHECK;
uint64_t dft_export_env_index(const struct dft_export_env *e);
/*
 * A selective disclosure of operation seq of the opened envelope, revealing the items named in
 * names (docs/vault-format.md "Disclosures"); every other item of that operation is withheld.
 */
enum dft_err dft_export_env_disclose(struct dft_export_env *e, size_t seq, const char *const *names,
                                     size_t n_names, json_t **out,
                                     struct dft_error *err) DFT_MUST_CHECK;
void dft_export_env_free(struct dft_export_env *e); /* NULL allowed */

/*
 * Privileged notes (docs/vault-format.md "Privileged notes"). _unseal opens, with this vault's
 * own box key, the sealed operations of the envelope that were sealed to it, so that
 * dft_export_env_disclose can reveal their fields ("fields/<name>") provably; _opened gives
 * operation seq's opened fields (borrowed) or NULL. dft_vault_export_privileged: the fields of
 * a privileged note as its author reads them (new reference); DFT_ERR_INPUT when it is sealed
 * to another key. Only for `export --bundle --include-privileged`.
 */
enum dft_err dft_export_env_unseal(struct dft_vault *v, struct dft_export_env *e,
                                   struct dft_error *err) DFT_MUST_CHECK;
const json_t *dft_export_env_opened(const struct dft_export_env *e, size_t seq);
enum dft_err dft_vault_export_privileged(struct dft_vault *v, const char *id, json_t **fields_out,
                                         struct dft_error *err) DFT_MUST_CHECK;

/*
 * The log material of a bundle, at the current tree size: {"vkey","origin","size",
 * "checkpoint" (signed note at size), "cosigned" (the latest kept cosigned note, or null),
 * "cosigned_size" (0 when none), "witnesses":[vkey...], "policy":K,
 * "consistency":{"old_size","new_size","proof":[...]} (from the cosigned size, or null)}.
 */
enum dft_err dft_vault_export_log(struct dft_vault *v, json_t **out,
                                  struct dft_error *err) DFT_MUST_CHECK;

/* RFC 9162 inclusion proof of leaf index in the tree of size leaves. */
enum dft_err dft_vault_export_proof(struct dft_vault *v, uint64_t index, uint64_t size,
                                    unsigned char (*proof)[32], size_t *proof_len,
                                    struct dft_error *err) DFT_MUST_CHECK;

/* Open the evidence object (hex id) of the vault for reading (dft_evidence_read). */
enum dft_err dft_vault_export_evidence(struct dft_vault *v, const char *object,
                                       struct dft_evidence_obj **out,
                                       struct dft_error *err) DFT_MUST_CHECK;

#endif
