/*
 * sync_internal.h - the vault's side of team sync, shared by sync.c (keys, wire entries, push,
 * pull), sync_view.c (the merged view) and conflict.c (parents, heads, conflicts).
 *
 * Internal to src/vault. The merge rule and the wire format are in docs/vault-format.md
 * ("Sync"). Nothing here reads a clock: the merged view is a function of the set of operations
 * and the server's log order.
 */
#ifndef DEFTER_VAULT_SYNC_INTERNAL_H
#define DEFTER_VAULT_SYNC_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>

#include "crypto/keys.h"
#include "defter/vault_sync.h"

/* Position of a local operation the server has not acknowledged: after every logged one. */
#define MERGE_LOCAL ((int64_t)1 << 60)

/* Wire entry: u32 epoch ‖ u8 mode ‖ [80-byte sealed key when mode 1] ‖ envelope. */
#define SYNC_MODE_CK        0
#define SYNC_MODE_DROP      1
#define SYNC_SEALED_K_BYTES 80 /* crypto_box_SEALBYTES + 32 */

/* One operation in merged order. */
struct merge_op {
    const json_t *op; /* borrowed */
    int64_t pos;      /* server log index, or MERGE_LOCAL + local index */
};

/* Create the sync tables if missing (inside or outside a transaction). */
enum dft_err sync_tables(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;

/* Whether table name exists in schema ("main", "rebuild"...). */
int sync_table_exists(sqlite3 *db, const char *schema, const char *name);

/*
 * Ops in merged order (parents before children): *skip gets {op id: true} for deletes held by a
 * concurrent edit (the record stays), *conflicts (may be NULL) the open conflicts sorted by
 * record and field, as dft_vault_conflicts.
 */
enum dft_err merge_analyse(const struct merge_op *ops, size_t n, json_t **skip, json_t **conflicts,
                           struct dft_error *err) DFT_MUST_CHECK;

/* Every operation touching record, in merged order, from main's history and sync_history. */
enum dft_err merge_load(sqlite3 *db, const char *record, json_t **ops, json_t **pos,
                        struct dft_error *err) DFT_MUST_CHECK;

/* The heads of record (ids, appended to heads) from main's history and sync_history. */
enum dft_err merge_record_heads(sqlite3 *db, const char *record, json_t *heads,
                                struct dft_error *err) DFT_MUST_CHECK;

/* Rows of schema.sync_history for the operations of a pulled entry at server index sidx. */
enum dft_err sync_history_add(sqlite3 *db, const char *schema, int64_t sidx, const json_t *ops,
                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * Give each operation of a batch about to be sealed its "parents" (the heads of every record it
 * touches, earlier operations of the batch included) and, when the engine's state holds a
 * verified checkpoint, "seen" {size, root} (commit.c calls it).
 */
enum dft_err sync_op_parents(struct dft_vault *v, json_t *ops,
                             struct dft_error *err) DFT_MUST_CHECK;

/* Whether the vault has pulled entries, so that its view is the merged one. */
int sync_view_merged(struct dft_vault *v);

/*
 * Build the merged view into schema's records, links, evidence and sync_history (empty tables),
 * local operations read from log_schema's history. Pulled entries from server index reopen_from
 * on are opened again (keys: extra first, then the stored ones) and checked; earlier ones, merged
 * before, come from main.sync_history (verify passes 0: all are opened). *applied (may be NULL):
 * operations applied.
 */
enum dft_err sync_view_build(struct dft_vault *v, const char *schema, const char *log_schema,
                             const struct dft_sync_keyring *extra, int64_t reopen_from,
                             size_t *applied, struct dft_error *err) DFT_MUST_CHECK;

/* Write the merged tables of schema "sync_merge" into main, with the search index (pull). */
enum dft_err sync_view_install(struct dft_vault *v, struct dft_error *err) DFT_MUST_CHECK;

/*
 * verify's evidence check for a shared vault (sync_chunks.c): as vault_verify_evidence, but an
 * object of another member's evidence that has not been pulled yet is counted ("waiting"), and
 * a pulled one (which keeps its author's object id) gets the quick check.
 */
enum dft_err sync_verify_evidence(struct dft_vault *v, unsigned flags, json_t **report,
                                  struct dft_error *err) DFT_MUST_CHECK;

/*
 * For an evidence object pulled from another member (sync_chunks.c): *keys gets a copy of the
 * vault's keys without the dedup key (the object keeps its author's id), to free with
 * keys_free; NULL for the vault's own objects.
 */
enum dft_err sync_object_keys(struct dft_vault *v, const char *object, struct dft_keys **keys,
                              struct dft_error *err) DFT_MUST_CHECK;

/* verify: rebuild the merged view into "rebuild" and compare sync_history (verify.c calls it). */
enum dft_err sync_verify_view(struct dft_vault *v, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Open a wire entry body: parse strictly, find its epoch's key (extra first, then stored; a
 * mode-1 key is unsealed with the epoch's drop secret), check signature, root and authors.
 * *ops: new reference; info: the signed head's fields; head_hash: SHA-256 of the 137-byte head.
 */
enum dft_err sync_entry_open(struct dft_keys *scratch, const unsigned char *body, size_t n,
                             const struct dft_sync_keyring *extra,
                             const struct dft_sync_keyring *stored, json_t **ops,
                             unsigned char author[32], unsigned char head_hash[32],
                             struct dft_error *err) DFT_MUST_CHECK;

/* Parse the clear part of a wire entry only: epoch, mode, offset and length of the envelope. */
enum dft_err sync_entry_parse(const unsigned char *body, size_t n, uint32_t *epoch, int *mode,
                              size_t *env_off, struct dft_error *err) DFT_MUST_CHECK;

#endif
