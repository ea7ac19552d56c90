/*
 * privileged.h - privileged notes: a note's fields sealed to its author's X25519 key inside the
 * envelope (docs/vault-format.md "Privileged notes").
 *
 * Internal to src/vault. Other members (who hold the collection key and so read the envelope)
 * and every export see only the placeholder {"privileged": true, "sealed": {...}}; the author's
 * own vault opens the box. Never logs a field value.
 */
#ifndef DEFTER_VAULT_PRIVILEGED_H
#define DEFTER_VAULT_PRIVILEGED_H

#include <jansson.h>

#include "defter/core.h"
#include "defter/crypto.h"

struct dft_keys;
struct dft_vault;

#define PRIVILEGED_SEALED_VERSION 1
#define PRIVILEGED_TITLE          "privileged note"

/* The "sealed" object of fields when it is one (a sealed privileged note), else NULL. */
const json_t *privileged_sealed(const json_t *fields);

/*
 * The digests that a sealed object commits to (fields.sealed.digests), decoded into a new
 * malloc'd array of *n 32-byte hashes (*out NULL when n is 0). Without a sealed object: *n = 0.
 * DFT_ERR_INTEGRITY when the sealed object is malformed. Used by the operation hash.
 */
enum dft_err privileged_digests(const json_t *fields, unsigned char **out, size_t *n,
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * Before a commit (vault_commit_ops, after the schema checks): seal the fields of every create
 * of a privileged note, and of every update of one, to the vault's own box key. Refuses (one
 * message, nothing changed) an update that would make a note privileged after it was added,
 * make it not privileged, or change a note sealed to another key.
 */
enum dft_err privileged_seal_ops(struct dft_vault *v, json_t *ops,
                                 struct dft_error *err) DFT_MUST_CHECK;

/*
 * Open the sealed fields of one operation with k. *fields_out: new reference to the fields, or
 * NULL when the operation is not sealed or is sealed to another key. salt_key (may be NULL)
 * gets the box's salt key. DFT_ERR_INTEGRITY when the box is damaged, names another record or
 * does not reproduce the digests the operation commits to.
 */
enum dft_err privileged_open_op(const struct dft_keys *k, const json_t *op, json_t **fields_out,
                                unsigned char salt_key[DFT_KEY_BYTES],
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * For `show`: rec is a record as dft_vault_show builds it (with "history"). A sealed note gets
 * "privileged": {"sealed": true, "readable": R}; when this vault's key opens every sealed
 * operation of its history (R true), "fields" is their replay, else only {"privileged": true}.
 */
enum dft_err privileged_show(const struct dft_keys *k, json_t *rec,
                             struct dft_error *err) DFT_MUST_CHECK;

#endif
