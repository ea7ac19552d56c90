/*
 * vault_sync.h - the vault's side of team sync (issue 11): what the sync engine (src/sync/, the
 * `share`, `member`, `sync`, `init --join`, `conflicts`, `resolve` commands) asks of a vault.
 *
 * The vault keeps its keys: the engine never sees the signing, box, seal or object keys; it asks
 * the vault to sign, to open a sealed collection key, to re-seal its envelopes for the wire and
 * to verify and merge what it pulled. Wire formats are in docs/sync-protocol.md.
 *
 * Collection keys (32 bytes, one per epoch) and drop secret keys travel in a keyring the caller
 * allocates with sodium_malloc and wipes; the vault copies what it keeps into its encrypted
 * database.
 */
#ifndef DEFTER_VAULT_SYNC_H
#define DEFTER_VAULT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"
#include "defter/vault.h"

#define DFT_SYNC_KEY_BYTES 32

/* One epoch's keys as a member holds them. A field device has drop_pk only (has_secret 0). */
struct dft_sync_epoch {
    uint32_t epoch;
    int has_secret;                            /* ck and drop_sk are valid */
    unsigned char ck[DFT_SYNC_KEY_BYTES];      /* collection key: seals envelopes */
    unsigned char drop_sk[DFT_SYNC_KEY_BYTES]; /* X25519 secret of the epoch's drop key */
    unsigned char drop_pk[DFT_SYNC_KEY_BYTES]; /* X25519 public of the epoch's drop key */
};

struct dft_sync_keyring {
    size_t count;
    struct dft_sync_epoch *epochs; /* sodium_malloc'd by the owner of the keyring */
};

/* ---- state: the engine's own record of the collection, stored sealed in the vault ---- */

/*
 * The engine's state object (server URL, server key, collection id, role, membership chain,
 * last verified checkpoint, counters; free-form JSON chosen by the engine). Keys of epochs
 * are kept apart with dft_vault_sync_keys_put. get: DFT_ERR_NOT_FOUND when the vault is not
 * shared.
 */
DFT_EXPORT enum dft_err dft_vault_sync_state_get(struct dft_vault *v, json_t **out,
                                                 struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_vault_sync_state_put(struct dft_vault *v, const json_t *state,
                                                 struct dft_error *err) DFT_MUST_CHECK;

/* Store (replace) / load the epochs' keys. load fills ring->epochs with sodium_malloc. */
DFT_EXPORT enum dft_err dft_vault_sync_keys_put(struct dft_vault *v,
                                                const struct dft_sync_keyring *ring,
                                                struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_vault_sync_keys_get(struct dft_vault *v, struct dft_sync_keyring *ring,
                                                struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT void dft_sync_keyring_free(struct dft_sync_keyring *ring);

/* ---- the device's keys, used without leaving the vault ---- */

/* Ed25519 signature by the vault's device key over msg (callers put a context string first). */
DFT_EXPORT enum dft_err dft_vault_sign(struct dft_vault *v, const unsigned char *msg, size_t n,
                                       unsigned char sig[64], struct dft_error *err) DFT_MUST_CHECK;

/* crypto_box_seal_open with the vault's X25519 key; out receives n - crypto_box_SEALBYTES. */
DFT_EXPORT enum dft_err dft_vault_unseal(struct dft_vault *v, const unsigned char *sealed, size_t n,
                                         unsigned char *out, struct dft_error *err) DFT_MUST_CHECK;

/* ---- push ---- */

/*
 * Local envelopes the server has not acknowledged, oldest first, up to max: each given to fn
 * as a wire entry body (docs/sync-protocol.md, "Entries"): sealed under the current epoch's
 * collection key, or, when the keyring's current epoch has no secret (a field device), under a
 * fresh key sealed to the epoch's drop key. fn returns 0 to go on. The signed head is the
 * vault's own, so signatures and selective disclosure stay valid.
 */
typedef int (*dft_sync_out_fn)(void *ctx, uint64_t local_index, const unsigned char *body,
                               size_t n);
DFT_EXPORT enum dft_err dft_vault_sync_outbox(struct dft_vault *v,
                                              const struct dft_sync_keyring *ring, size_t max,
                                              dft_sync_out_fn fn, void *ctx,
                                              struct dft_error *err) DFT_MUST_CHECK;

/* The server logged local envelope local_index at server_index (durable acknowledgement). */
DFT_EXPORT enum dft_err dft_vault_sync_acked(struct dft_vault *v, uint64_t local_index,
                                             uint64_t server_index,
                                             struct dft_error *err) DFT_MUST_CHECK;

/* ---- pull ---- */

struct dft_sync_entry {
    uint64_t index; /* position in the server's collection log */
    const unsigned char *body;
    size_t len;
};

/*
 * Whether author (Ed25519 public key) could write at server log position index: 0 yes,
 * 1 refuse (unknown, not a writer, revoked before index), 2 hold for review (revoked with
 * --since, logged after since).
 */
typedef int (*dft_sync_author_fn)(void *ctx, const unsigned char author[32], uint64_t index);

/*
 * Verify and merge pulled envelope entries, in server order: each opens under its epoch's key,
 * its signature and selective-disclosure root check, every operation names its author, and
 * author_ok allows it. All or nothing: one bad entry is DFT_ERR_INTEGRITY and nothing is
 * merged. The device's own envelopes coming back are recognised and not applied twice. The
 * view afterwards is the deterministic function of the set (server order, then local
 * operations not yet acknowledged), with conflicts as docs/sync-protocol.md "Merge rule".
 * *report: {"merged":N,"held":H,"seen":[{"index","author","size","root"}...]}.
 */
DFT_EXPORT enum dft_err dft_vault_sync_apply(struct dft_vault *v, const struct dft_sync_entry *e,
                                             size_t count, const struct dft_sync_keyring *ring,
                                             dft_sync_author_fn author_ok, void *ctx,
                                             json_t **report, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Every pulled entry body from server index from on, in index order, as received (the vault
 * keeps them): fn gets (index, body). For re-seeding a new server from a member's copy.
 */
DFT_EXPORT enum dft_err dft_vault_sync_pulled(struct dft_vault *v, uint64_t from,
                                              dft_sync_out_fn fn, void *ctx,
                                              struct dft_error *err) DFT_MUST_CHECK;

/*
 * As dft_vault_sync_apply, and before anything is written: seen_ok gets the "seen" checkpoints
 * of every new operation ([{"index","author","size","root"}], as in the report) and may refuse
 * the whole pull (its error is returned, nothing merged) — so a member's view of another
 * history is caught before its operations are merged. seen_ok NULL: no check.
 */
typedef enum dft_err (*dft_sync_seen_fn)(void *ctx, const json_t *seen, struct dft_error *err);
DFT_EXPORT enum dft_err
dft_vault_sync_apply_checked(struct dft_vault *v, const struct dft_sync_entry *e, size_t count,
                             const struct dft_sync_keyring *ring, dft_sync_author_fn author_ok,
                             void *ctx, dft_sync_seen_fn seen_ok, void *seen_ctx, json_t **report,
                             struct dft_error *err) DFT_MUST_CHECK;

/* ---- conflicts ---- */

/*
 * Open conflicts: [{"id","record","field","values":[{"value","author","op","index"}...]}]
 * (a concurrent delete shows as field "_deleted").
 */
DFT_EXPORT enum dft_err dft_vault_conflicts(struct dft_vault *v, json_t **out,
                                            struct dft_error *err) DFT_MUST_CHECK;

/* Resolve: one update whose parents name every concurrent write of record.field. */
DFT_EXPORT enum dft_err dft_vault_resolve(struct dft_vault *v, const char *record,
                                          const char *field, const json_t *value, json_t **out,
                                          struct dft_error *err) DFT_MUST_CHECK;

/* ---- evidence chunks ---- */

/*
 * Evidence objects not yet uploaded: fn gets the chunk name (64 hex: HMAC-SHA-256 under a key
 * derived from the newest collection key, so the server sees no content hash) and the object
 * re-wrapped so that the collection key opens it. Pull stores a chunk re-wrapped under the
 * local object key (dft_vault_sync_chunk_in) after checking it opens.
 */
typedef int (*dft_sync_chunk_fn)(void *ctx, const char *name, const unsigned char *body, size_t n);
DFT_EXPORT enum dft_err dft_vault_sync_chunks_out(struct dft_vault *v,
                                                  const struct dft_sync_keyring *ring,
                                                  dft_sync_chunk_fn fn, void *ctx,
                                                  struct dft_error *err) DFT_MUST_CHECK;
/* The chunk names referenced by merged evidence that this vault does not hold yet. */
DFT_EXPORT enum dft_err dft_vault_sync_chunks_wanted(struct dft_vault *v, json_t **names,
                                                     struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_vault_sync_chunk_in(struct dft_vault *v,
                                                const struct dft_sync_keyring *ring,
                                                const char *name, const unsigned char *body,
                                                size_t n, struct dft_error *err) DFT_MUST_CHECK;

#endif
