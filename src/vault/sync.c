/*
 * sync.c - the vault's side of team sync: the engine's state, the epochs' keys, signing and
 * unsealing with the device's keys, wire entries (push), and verified merges of pulled entries.
 *
 * Wire entry (docs/vault-format.md "Sync"): u32 epoch ‖ u8 mode ‖ [mode 1: crypto_box_seal(K,
 * drop public key), 80 bytes] ‖ the vault's envelope with its signed head unchanged and its
 * ciphertext re-sealed under the epoch's collection key (mode 0) or a fresh key K (mode 1).
 * Never hands out a key, never writes plaintext outside the encrypted database and
 * caller-owned memory, and merges all pulled entries of one call or none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "store/store.h"
#include "vault/envelope.h"
#include "vault/sync_internal.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

static const char *const sync_schema[] = {
    "CREATE TABLE IF NOT EXISTS main.sync_state(k INTEGER PRIMARY KEY CHECK(k = 1),"
    " state TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS main.sync_keys(epoch INTEGER PRIMARY KEY,"
    " has_secret INTEGER NOT NULL, ck BLOB NOT NULL, drop_sk BLOB NOT NULL,"
    " drop_pk BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS main.sync_pulled(sidx INTEGER PRIMARY KEY, head BLOB NOT NULL,"
    " author BLOB NOT NULL, held INTEGER NOT NULL, local_idx INTEGER, dup INTEGER NOT NULL,"
    " body BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS main.sync_pulled_by_head ON sync_pulled(head)",
    "CREATE TABLE IF NOT EXISTS main.sync_acked(local_idx INTEGER PRIMARY KEY,"
    " sidx INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS main.sync_local(head BLOB PRIMARY KEY,"
    " local_idx INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS main.sync_history(record TEXT NOT NULL, sidx INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, op TEXT NOT NULL, PRIMARY KEY(record, sidx, seq)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS main.sync_chunks(name TEXT PRIMARY KEY, object TEXT NOT NULL,"
    " state INTEGER NOT NULL) WITHOUT ROWID",
};

enum dft_err
sync_tables(sqlite3 *db, struct dft_error *err)
{
    for (size_t i = 0; i < sizeof sync_schema / sizeof sync_schema[0]; i++) {
        enum dft_err rc = store_exec(db, sync_schema[i], err);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    return DFT_OK;
}

/* ---- state ---- */

enum dft_err
dft_vault_sync_state_get(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    if (!sync_table_exists(v->db, "main", "sync_state")) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "the vault is not shared");
    }
    sqlite3_stmt *st = NULL;
    int src =
        sqlite3_prepare_v2(v->db, "SELECT state FROM main.sync_state WHERE k = 1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    if (src == SQLITE_DONE) {
        sqlite3_finalize(st);
        return dft_fail(err, DFT_ERR_NOT_FOUND, "the vault is not shared");
    }
    if (src != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_error(v->db, src, "cannot read the sync state", err);
    }
    json_error_t jerr;
    json_t *j = json_loads((const char *)sqlite3_column_text(st, 0), JSON_REJECT_DUPLICATES, &jerr);
    sqlite3_finalize(st);
    if (!json_is_object(j)) {
        json_decref(j);
        return dft_fail(err, DFT_ERR_INTEGRITY, "the stored sync state is malformed");
    }
    *out = j;
    return DFT_OK;
}

enum dft_err
dft_vault_sync_state_put(struct dft_vault *v, const json_t *state, struct dft_error *err)
{
    if (!json_is_object(state)) {
        return dft_fail(err, DFT_ERR_INPUT, "the sync state must be a JSON object");
    }
    struct dft_buf b;
    dft_buf_init(&b, 16u << 20, 0);
    enum dft_err rc = json_canonical(state, &b, err);
    sqlite3_stmt *st = NULL;
    if (rc != DFT_OK) {
        goto done;
    }
    if ((rc = store_exec(v->db, "BEGIN IMMEDIATE", err)) != DFT_OK) {
        goto done;
    }
    if ((rc = sync_tables(v->db, err)) == DFT_OK) {
        int src = sqlite3_prepare_v2(
            v->db, "INSERT OR REPLACE INTO main.sync_state(k, state) VALUES(1, ?1)", -1, &st, NULL);
        if (src == SQLITE_OK) {
            sqlite3_bind_text(st, 1, (const char *)b.data, (int)b.len, SQLITE_STATIC);
            src = sqlite3_step(st);
        }
        if (src != SQLITE_DONE) {
            rc = store_error(v->db, src, "cannot store the sync state", err);
        }
    }
    sqlite3_finalize(st);
    if (rc == DFT_OK) {
        rc = store_exec(v->db, "COMMIT", err);
    }
    if (rc != DFT_OK) {
        store_rollback(v->db);
    }
done:
    dft_buf_release(&b);
    return rc;
}

/* ---- keys ---- */

enum dft_err
dft_vault_sync_keys_put(struct dft_vault *v, const struct dft_sync_keyring *ring,
                        struct dft_error *err)
{
    if (ring == NULL || (ring->count > 0 && ring->epochs == NULL) || ring->count > 65536) {
        return dft_fail(err, DFT_ERR_INPUT, "the keyring is malformed");
    }
    enum dft_err rc = store_exec(v->db, "BEGIN IMMEDIATE", err);
    sqlite3_stmt *st = NULL;
    if (rc != DFT_OK) {
        return rc;
    }
    if ((rc = sync_tables(v->db, err)) != DFT_OK ||
        (rc = store_exec(v->db, "DELETE FROM main.sync_keys", err)) != DFT_OK) {
        goto out;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "INSERT INTO main.sync_keys(epoch, has_secret, ck, drop_sk,"
                                 " drop_pk) VALUES(?1, ?2, ?3, ?4, ?5)",
                                 -1, &st, NULL);
    for (size_t i = 0; src == SQLITE_OK && i < ring->count; i++) {
        const struct dft_sync_epoch *e = &ring->epochs[i];
        static const unsigned char zero[DFT_SYNC_KEY_BYTES];
        sqlite3_bind_int64(st, 1, e->epoch);
        sqlite3_bind_int(st, 2, e->has_secret ? 1 : 0);
        sqlite3_bind_blob(st, 3, e->has_secret ? e->ck : zero, DFT_SYNC_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, e->has_secret ? e->drop_sk : zero, DFT_SYNC_KEY_BYTES,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, e->drop_pk, DFT_SYNC_KEY_BYTES, SQLITE_STATIC);
        src = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (src == SQLITE_CONSTRAINT) {
            rc = dft_fail(err, DFT_ERR_INPUT, "epoch %u appears twice in the keyring",
                          (unsigned)e->epoch);
            goto out;
        }
        src = src == SQLITE_DONE ? SQLITE_OK : src;
    }
    if (src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot store the collection keys", err);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = store_exec(v->db, "COMMIT", err);
out:
    sqlite3_finalize(st);
    if (rc != DFT_OK) {
        store_rollback(v->db);
    }
    return rc;
}

enum dft_err
dft_vault_sync_keys_get(struct dft_vault *v, struct dft_sync_keyring *ring, struct dft_error *err)
{
    ring->count = 0;
    ring->epochs = NULL;
    if (!sync_table_exists(v->db, "main", "sync_keys")) {
        return DFT_OK;
    }
    sqlite3_stmt *st = NULL;
    size_t n = 0, cap = 0;
    int src = sqlite3_prepare_v2(v->db, "SELECT count(*) FROM main.sync_keys", -1, &st, NULL);
    if (src == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        cap = (size_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cap == 0) {
        return DFT_OK;
    }
    struct dft_sync_epoch *e = sodium_malloc(cap * sizeof *e);
    if (e == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    sodium_memzero(e, cap * sizeof *e);
    src = sqlite3_prepare_v2(v->db,
                             "SELECT epoch, has_secret, ck, drop_sk, drop_pk FROM main.sync_keys"
                             " ORDER BY epoch",
                             -1, &st, NULL);
    while (src == SQLITE_OK && n < cap && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 2) != DFT_SYNC_KEY_BYTES ||
            sqlite3_column_bytes(st, 3) != DFT_SYNC_KEY_BYTES ||
            sqlite3_column_bytes(st, 4) != DFT_SYNC_KEY_BYTES) {
            sqlite3_finalize(st);
            sodium_free(e);
            return dft_fail(err, DFT_ERR_INTEGRITY, "a stored collection key is malformed");
        }
        e[n].epoch = (uint32_t)sqlite3_column_int64(st, 0);
        e[n].has_secret = sqlite3_column_int(st, 1);
        memcpy(e[n].ck, sqlite3_column_blob(st, 2), DFT_SYNC_KEY_BYTES);
        memcpy(e[n].drop_sk, sqlite3_column_blob(st, 3), DFT_SYNC_KEY_BYTES);
        memcpy(e[n].drop_pk, sqlite3_column_blob(st, 4), DFT_SYNC_KEY_BYTES);
        n++;
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_OK && src != SQLITE_DONE && src != SQLITE_ROW) {
        sodium_free(e);
        return store_error(v->db, src, "cannot read the collection keys", err);
    }
    ring->count = n;
    ring->epochs = e;
    return DFT_OK;
}

void
dft_sync_keyring_free(struct dft_sync_keyring *ring)
{
    if (ring == NULL) {
        return;
    }
    sodium_free(ring->epochs); /* wipes */
    ring->epochs = NULL;
    ring->count = 0;
}

/* ---- the device's keys ---- */

enum dft_err
dft_vault_sign(struct dft_vault *v, const unsigned char *msg, size_t n, unsigned char sig[64],
               struct dft_error *err)
{
    if (msg == NULL && n > 0) {
        return dft_fail(err, DFT_ERR_USAGE, "nothing to sign");
    }
    crypto_sign_detached(sig, NULL, msg, n, v->keys->sign_sk);
    return DFT_OK;
}

enum dft_err
dft_vault_unseal(struct dft_vault *v, const unsigned char *sealed, size_t n, unsigned char *out,
                 struct dft_error *err)
{
    if (sealed == NULL || n < crypto_box_SEALBYTES) {
        return dft_fail(err, DFT_ERR_INPUT, "sealed box too short");
    }
    if (crypto_box_seal_open(out, sealed, n, v->keys->box_pk, v->keys->box_sk) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sealed box does not open with this device's key");
    }
    return DFT_OK;
}

/* ---- wire entries ---- */

static const struct dft_sync_epoch *
find_epoch(const struct dft_sync_keyring *ring, uint32_t epoch)
{
    for (size_t i = 0; ring != NULL && i < ring->count; i++) {
        if (ring->epochs[i].epoch == epoch) {
            return &ring->epochs[i];
        }
    }
    return NULL;
}

enum dft_err
sync_entry_parse(const unsigned char *body, size_t n, uint32_t *epoch, int *mode, size_t *env_off,
                 struct dft_error *err)
{
    if (body == NULL || n < 5) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync entry is truncated");
    }
    *epoch = (uint32_t)dft_be_get(body, 4);
    *mode = body[4];
    if (*mode != SYNC_MODE_CK && *mode != SYNC_MODE_DROP) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync entry has an unknown mode");
    }
    *env_off = 5 + (*mode == SYNC_MODE_DROP ? SYNC_SEALED_K_BYTES : 0);
    if (n < *env_off + DFT_ENV_FIXED_BYTES + CRYPTO_XCHACHA_TAG_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync entry is truncated");
    }
    if (n - *env_off > DFT_ENV_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "sync entry is too large");
    }
    return DFT_OK;
}

/* Each op: id, record, action strings; parents an array of strings; seen an object. */
static enum dft_err
check_ops_shape(const json_t *ops, struct dft_error *err)
{
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op)
    {
        const json_t *parents = json_object_get(op, "parents");
        const json_t *seen = json_object_get(op, "seen");
        int ok = json_is_string(json_object_get(op, "id")) &&
                 json_is_string(json_object_get(op, "record")) &&
                 json_is_string(json_object_get(op, "action")) &&
                 json_is_string(json_object_get(op, "ts")) &&
                 (parents == NULL || json_is_array(parents)) &&
                 (seen == NULL ||
                  (json_is_object(seen) && json_is_integer(json_object_get(seen, "size")) &&
                   json_is_string(json_object_get(seen, "root"))));
        size_t k;
        const json_t *p;
        json_array_foreach(parents, k, p)
        {
            ok = ok && json_is_string(p);
        }
        if (!ok) {
            return dft_fail(err, DFT_ERR_INTEGRITY, "sync entry operation %zu is malformed", i);
        }
    }
    return DFT_OK;
}

enum dft_err
sync_entry_open(struct dft_keys *scratch, const unsigned char *body, size_t n,
                const struct dft_sync_keyring *extra, const struct dft_sync_keyring *stored,
                json_t **ops, unsigned char author[32], unsigned char head_hash[32],
                struct dft_error *err)
{
    uint32_t epoch = 0;
    int mode = 0;
    size_t off = 0;
    struct dft_envelope_info info;
    enum dft_err rc = sync_entry_parse(body, n, &epoch, &mode, &off, err);
    if (rc != DFT_OK || (rc = envelope_inspect(body + off, n - off, &info, err)) != DFT_OK) {
        return rc;
    }
    const struct dft_sync_epoch *ep = find_epoch(extra, epoch);
    if (ep == NULL || !ep->has_secret) {
        ep = find_epoch(stored, epoch);
    }
    if (ep == NULL || !ep->has_secret) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync entry of epoch %u: no key opens it",
                        (unsigned)epoch);
    }
    if (mode == SYNC_MODE_CK) {
        memcpy(scratch->seal_key, ep->ck, DFT_SYNC_KEY_BYTES);
    } else if (crypto_box_seal_open(scratch->seal_key, body + 5, SYNC_SEALED_K_BYTES, ep->drop_pk,
                                    ep->drop_sk) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "sync entry's sealed key does not open");
    }
    rc = envelope_open(scratch, body + off, n - off, ops, err);
    sodium_memzero(scratch->seal_key, sizeof scratch->seal_key);
    if (rc == DFT_ERR_INTEGRITY && strstr(err != NULL ? err->msg : "", "decrypt") != NULL) {
        /* the envelope's message names the local vault; say what failed here */
        if (err != NULL) {
            err->code = DFT_OK;
        }
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "sync entry does not decrypt under epoch %u's key",
                      (unsigned)epoch);
    }
    if (rc != DFT_OK) {
        return rc;
    }
    if ((rc = check_ops_shape(*ops, err)) != DFT_OK) {
        json_decref(*ops);
        *ops = NULL;
        return rc;
    }
    memcpy(author, info.author, 32);
    crypto_sha256_once(head_hash, body + off, DFT_ENV_HEAD_BYTES);
    return DFT_OK;
}

/* The newest epoch of the ring: the one that seals what this device writes now. */
static const struct dft_sync_epoch *
current_epoch(const struct dft_sync_keyring *ring)
{
    const struct dft_sync_epoch *cur = NULL;
    for (size_t i = 0; ring != NULL && i < ring->count; i++) {
        if (cur == NULL || ring->epochs[i].epoch > cur->epoch) {
            cur = &ring->epochs[i];
        }
    }
    return cur;
}

/* Re-seal one local envelope for the wire into out (reset first). */
static enum dft_err
wire_seal(struct dft_vault *v, const struct dft_sync_epoch *ep, const unsigned char *env, size_t n,
          struct dft_buf *out, struct dft_error *err)
{
    struct dft_envelope_info info;
    enum dft_err rc = envelope_inspect(env, n, &info, err);
    if (rc != DFT_OK) {
        return rc;
    }
    size_t clen = n - DFT_ENV_FIXED_BYTES;
    size_t plen = clen - CRYPTO_XCHACHA_TAG_BYTES;
    int drop = !ep->has_secret;
    size_t off = 5 + (drop ? SYNC_SEALED_K_BYTES : 0);
    unsigned char *pt = sodium_malloc(plen + 1);
    unsigned char *k = sodium_malloc(DFT_SYNC_KEY_BYTES);
    if (pt == NULL || k == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (crypto_xchacha_open(pt, env + DFT_ENV_FIXED_BYTES, clen, env, DFT_ENV_HEAD_BYTES, env + 137,
                            v->keys->seal_key) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "a local envelope does not decrypt");
        goto out;
    }
    dft_buf_reset(out);
    if ((rc = dft_buf_reserve(out, off + n)) != DFT_OK) {
        rc = dft_fail(err, rc, "envelope too large for the wire");
        goto out;
    }
    unsigned char *b = out->data;
    dft_be_put(b, ep->epoch, 4);
    b[4] = drop ? SYNC_MODE_DROP : SYNC_MODE_CK;
    if (drop) {
        randombytes_buf(k, DFT_SYNC_KEY_BYTES);
        if (crypto_box_seal(b + 5, k, DFT_SYNC_KEY_BYTES, ep->drop_pk) != 0) {
            rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot seal to the epoch's drop key");
            goto out;
        }
    } else {
        memcpy(k, ep->ck, DFT_SYNC_KEY_BYTES);
    }
    memcpy(b + off, env, DFT_ENV_HEAD_BYTES);
    crypto_xchacha_nonce(b + off + 137);
    memcpy(b + off + 161, env + 161, 4);
    crypto_xchacha_seal(b + off + DFT_ENV_FIXED_BYTES, pt, plen, b + off, DFT_ENV_HEAD_BYTES,
                        b + off + 137, k);
    out->len = off + n;
out:
    sodium_free(pt);
    sodium_free(k);
    return rc;
}

enum dft_err
dft_vault_sync_outbox(struct dft_vault *v, const struct dft_sync_keyring *ring, size_t max,
                      dft_sync_out_fn fn, void *ctx, struct dft_error *err)
{
    const struct dft_sync_epoch *ep = current_epoch(ring);
    if (ep == NULL || fn == NULL) {
        return dft_fail(err, DFT_ERR_USAGE, "no collection key to seal with");
    }
    enum dft_err rc = store_exec(v->db, "BEGIN IMMEDIATE", err);
    sqlite3_stmt *st = NULL, *reg = NULL;
    struct dft_buf body;
    dft_buf_init(&body, DFT_ENV_MAX + 128, 0);
    if (rc != DFT_OK) {
        return rc;
    }
    if ((rc = sync_tables(v->db, err)) != DFT_OK) {
        goto out;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT e.idx, e.envelope FROM main.envelopes e WHERE NOT EXISTS"
                                 " (SELECT 1 FROM main.sync_acked a WHERE a.local_idx = e.idx)"
                                 " ORDER BY e.idx LIMIT ?1",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_prepare_v2(v->db,
                                 "INSERT OR IGNORE INTO main.sync_local(head, local_idx)"
                                 " VALUES(?1, ?2)",
                                 -1, &reg, NULL);
    }
    if (src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot read the log", err);
        goto out;
    }
    sqlite3_bind_int64(st, 1, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(st, 0);
        const unsigned char *env = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if ((rc = wire_seal(v, ep, env, n, &body, err)) != DFT_OK) {
            goto out;
        }
        unsigned char hh[DFT_HASH_BYTES];
        crypto_sha256_once(hh, env, DFT_ENV_HEAD_BYTES);
        sqlite3_bind_blob(reg, 1, hh, sizeof hh, SQLITE_TRANSIENT);
        sqlite3_bind_int64(reg, 2, idx);
        int r2 = sqlite3_step(reg);
        sqlite3_reset(reg);
        if (r2 != SQLITE_DONE) {
            rc = store_error(v->db, r2, "cannot record a pushed envelope", err);
            goto out;
        }
        if (fn(ctx, (uint64_t)idx, body.data, body.len) != 0) {
            src = SQLITE_DONE;
            break;
        }
    }
    if (src != SQLITE_DONE) {
        rc = store_error(v->db, src, "cannot read the log", err);
        goto out;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(reg);
    st = reg = NULL;
    rc = store_exec(v->db, "COMMIT", err);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(reg);
    if (rc != DFT_OK) {
        store_rollback(v->db);
    }
    dft_buf_release(&body);
    return rc;
}

enum dft_err
dft_vault_sync_acked(struct dft_vault *v, uint64_t local_index, uint64_t server_index,
                     struct dft_error *err)
{
    if (local_index > INT64_MAX || server_index >= (uint64_t)MERGE_LOCAL) {
        return dft_fail(err, DFT_ERR_INPUT, "log index out of range");
    }
    enum dft_err rc = sync_tables(v->db, err);
    sqlite3_stmt *st = NULL;
    if (rc != DFT_OK) {
        return rc;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "INSERT OR REPLACE INTO main.sync_acked(local_idx, sidx)"
                                 " SELECT idx, ?2 FROM main.envelopes WHERE idx = ?1",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)local_index);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)server_index);
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        return store_error(v->db, src, "cannot record the acknowledgement", err);
    }
    if (sqlite3_changes(v->db) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "no local envelope %llu",
                        (unsigned long long)local_index);
    }
    return DFT_OK;
}

/* ---- pull ---- */

struct pulled {
    uint64_t index;
    const unsigned char *body;
    size_t len;
    unsigned char author[32];
    unsigned char head[DFT_HASH_BYTES];
    int held, dup, skip; /* skip: already stored, same bytes */
    int64_t local_idx;   /* own envelope, or -1 */
    json_t *ops;         /* opened operations (owned) */
};

/* Whether sidx is stored: 0 no, 1 with these bytes, -1 with other bytes. */
static int
stored_as(sqlite3 *db, uint64_t sidx, const unsigned char *body, size_t n)
{
    sqlite3_stmt *st = NULL;
    int r = 0;
    if (sqlite3_prepare_v2(db, "SELECT body FROM main.sync_pulled WHERE sidx = ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)sidx);
        if (sqlite3_step(st) == SQLITE_ROW) {
            r = (size_t)sqlite3_column_bytes(st, 0) == n &&
                        memcmp(sqlite3_column_blob(st, 0), body, n) == 0
                    ? 1
                    : -1;
        }
    }
    sqlite3_finalize(st);
    return r;
}

static int
head_known(sqlite3 *db, const unsigned char head[DFT_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int r = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM main.sync_pulled WHERE head = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_blob(st, 1, head, DFT_HASH_BYTES, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return r;
}

/* The local envelope with this signed head, or -1. */
static int64_t
own_envelope(sqlite3 *db, const unsigned char head[DFT_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    int64_t idx = -1;
    if (sqlite3_prepare_v2(db, "SELECT local_idx FROM main.sync_local WHERE head = ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, head, DFT_HASH_BYTES, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            idx = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    if (idx >= 0) {
        return idx;
    }
    /* not pushed through this vault's outbox (a lost acknowledgement): look at every head */
    if (sqlite3_prepare_v2(db, "SELECT idx, substr(envelope, 1, 137) FROM main.envelopes", -1, &st,
                           NULL) == SQLITE_OK) {
        while (idx < 0 && sqlite3_step(st) == SQLITE_ROW) {
            unsigned char h[DFT_HASH_BYTES];
            if (sqlite3_column_bytes(st, 1) != DFT_ENV_HEAD_BYTES) {
                continue;
            }
            crypto_sha256_once(h, sqlite3_column_blob(st, 1), DFT_ENV_HEAD_BYTES);
            if (sodium_memcmp(h, head, DFT_HASH_BYTES) == 0) {
                idx = sqlite3_column_int64(st, 0);
            }
        }
    }
    sqlite3_finalize(st);
    return idx;
}

static enum dft_err
store_pulled(struct dft_vault *v, const struct pulled *p, size_t n, struct dft_error *err)
{
    sqlite3_stmt *ins = NULL, *ack = NULL;
    int src = sqlite3_prepare_v2(v->db,
                                 "INSERT INTO main.sync_pulled(sidx, head, author, held,"
                                 " local_idx, dup, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 -1, &ins, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_prepare_v2(v->db,
                                 "INSERT OR IGNORE INTO main.sync_acked(local_idx, sidx)"
                                 " VALUES(?1, ?2)",
                                 -1, &ack, NULL);
    }
    for (size_t i = 0; src == SQLITE_OK && i < n; i++) {
        if (p[i].skip) {
            continue;
        }
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)p[i].index);
        sqlite3_bind_blob(ins, 2, p[i].head, DFT_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 3, p[i].author, 32, SQLITE_STATIC);
        sqlite3_bind_int(ins, 4, p[i].held);
        if (p[i].local_idx >= 0) {
            sqlite3_bind_int64(ins, 5, p[i].local_idx);
        } else {
            sqlite3_bind_null(ins, 5);
        }
        sqlite3_bind_int(ins, 6, p[i].dup);
        sqlite3_bind_blob64(ins, 7, p[i].body, p[i].len, SQLITE_STATIC);
        src = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (src == SQLITE_DONE && p[i].local_idx >= 0 && !p[i].dup) {
            sqlite3_bind_int64(ack, 1, p[i].local_idx);
            sqlite3_bind_int64(ack, 2, (sqlite3_int64)p[i].index);
            src = sqlite3_step(ack);
            sqlite3_reset(ack);
        }
        src = src == SQLITE_DONE ? SQLITE_OK : src;
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(ack);
    if (src != SQLITE_OK) {
        return store_error(v->db, src, "cannot store pulled entries", err);
    }
    return DFT_OK;
}

/*
 * The epochs of ring that the stored keyring lacks (or holds without secrets) are stored too:
 * verify opens every stored entry again with the stored keys.
 */
static enum dft_err
keep_keys(struct dft_vault *v, const struct dft_sync_keyring *ring, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    static const unsigned char zero[DFT_SYNC_KEY_BYTES];
    int src = sqlite3_prepare_v2(v->db,
                                 "INSERT INTO main.sync_keys(epoch, has_secret, ck, drop_sk,"
                                 " drop_pk) VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(epoch) DO"
                                 " UPDATE SET has_secret = excluded.has_secret, ck = excluded.ck,"
                                 " drop_sk = excluded.drop_sk, drop_pk = excluded.drop_pk"
                                 " WHERE excluded.has_secret > sync_keys.has_secret",
                                 -1, &st, NULL);
    for (size_t i = 0; src == SQLITE_OK && ring != NULL && i < ring->count; i++) {
        const struct dft_sync_epoch *e = &ring->epochs[i];
        sqlite3_bind_int64(st, 1, e->epoch);
        sqlite3_bind_int(st, 2, e->has_secret ? 1 : 0);
        sqlite3_bind_blob(st, 3, e->has_secret ? e->ck : zero, DFT_SYNC_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, e->has_secret ? e->drop_sk : zero, DFT_SYNC_KEY_BYTES,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, e->drop_pk, DFT_SYNC_KEY_BYTES, SQLITE_STATIC);
        src = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return src == SQLITE_OK ? DFT_OK : store_error(v->db, src, "cannot store collection keys", err);
}

/* Whether an acknowledged local envelope sits at or after first that is not one of p's own. */
static int
acked_elsewhere(struct dft_vault *v, const struct pulled *p, size_t count, uint64_t first)
{
    sqlite3_stmt *st = NULL;
    int other = 0;
    if (sqlite3_prepare_v2(v->db, "SELECT local_idx, sidx FROM main.sync_acked WHERE sidx >= ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return 1;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)first);
    while (!other && sqlite3_step(st) == SQLITE_ROW) {
        int64_t lidx = sqlite3_column_int64(st, 0);
        uint64_t sidx = (uint64_t)sqlite3_column_int64(st, 1);
        int found = 0;
        for (size_t i = 0; i < count && !found; i++) {
            found = !p[i].skip && p[i].index == sidx && p[i].local_idx == lidx && !p[i].dup;
        }
        other = !found;
    }
    sqlite3_finalize(st);
    return other;
}

static int64_t
count_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

/*
 * The common pull: the new entries come after everything merged and acknowledged, no local
 * envelope waits to be pushed, and every new operation descends from all heads of the records it
 * touches. Then the merged order is the old one with the new operations appended, none of them
 * concurrent with anything: the view is the old view with them applied, as a local commit is.
 * Applies them to main and sets *fast; otherwise writes nothing (the caller rebuilds).
 */
static enum dft_err
apply_appended(struct dft_vault *v, const struct pulled *p, size_t count, int *fast,
               struct dft_error *err)
{
    json_t *heads = json_object(); /* record -> heads, updated by each new operation */
    struct dft_view vw;
    int view_ready = 0;
    enum dft_err rc = DFT_OK;
    size_t first = 0;
    *fast = 0;
    while (first < count && p[first].skip) {
        first++;
    }
    if (heads == NULL || first == count) {
        goto out;
    }
    if (count_of(v->db, "SELECT count(*) FROM main.envelopes e WHERE NOT EXISTS (SELECT 1 FROM"
                        " main.sync_acked a WHERE a.local_idx = e.idx)") != 0 ||
        acked_elsewhere(v, p, count, p[first].index)) {
        goto out;
    }
    /* entries stored before this call must all come before the new ones */
    sqlite3_stmt *st = NULL;
    int later = 1;
    if (sqlite3_prepare_v2(v->db, "SELECT count(*) FROM main.sync_pulled WHERE sidx >= ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)p[first].index);
        later = sqlite3_step(st) != SQLITE_ROW ||
                sqlite3_column_int64(st, 0) != (sqlite3_int64)(count - first);
    }
    sqlite3_finalize(st);
    if (later) {
        goto out;
    }
    for (size_t i = first; i < count; i++) {
        if (p[i].skip || p[i].held || p[i].dup || p[i].local_idx >= 0) {
            if (p[i].skip || p[i].held) {
                goto out; /* an old entry among new ones, or one held: rebuild */
            }
            continue;
        }
        size_t k;
        json_t *op;
        json_array_foreach(p[i].ops, k, op)
        {
            const char *t[2];
            op_touched(op, &t[0], &t[1]);
            const json_t *parents = json_object_get(op, "parents");
            if (!json_is_array(parents)) {
                goto out; /* an operation from before sync: the rule needs the whole set */
            }
            for (int j = 0; j < 2; j++) {
                if (t[j] == NULL || (j == 1 && t[0] != NULL && strcmp(t[0], t[1]) == 0)) {
                    continue;
                }
                json_t *h = json_object_get(heads, t[j]);
                if (h == NULL) {
                    h = json_array();
                    if (h == NULL || json_object_set_new(heads, t[j], h) != 0 ||
                        (rc = merge_record_heads(v->db, t[j], h, err)) != DFT_OK) {
                        rc = rc != DFT_OK ? rc : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                        goto out;
                    }
                }
                size_t q;
                json_t *head;
                json_array_foreach(h, q, head)
                {
                    int named = 0;
                    size_t r;
                    json_t *par;
                    json_array_foreach(parents, r, par)
                    {
                        named |= json_equal(par, head);
                    }
                    if (!named) {
                        goto out; /* concurrent with a head: rebuild */
                    }
                }
            }
            const char *id = json_string_value(json_object_get(op, "id"));
            for (int j = 0; j < 2 && id != NULL; j++) {
                if (t[j] != NULL && json_object_set_new(heads, t[j], json_pack("[s]", id)) != 0) {
                    rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
                    goto out;
                }
            }
        }
    }
    /* every new operation is last and descends from all: apply them as a commit would */
    if ((rc = view_init(&vw, v->db, "main", 1, err)) != DFT_OK) {
        goto out;
    }
    view_ready = 1;
    vw.sync_mode = VIEW_NO_LOG;
    for (size_t i = first; i < count; i++) {
        if (p[i].dup || p[i].local_idx >= 0) {
            continue;
        }
        if ((rc = view_apply(&vw, (int64_t)p[i].index, p[i].ops, err)) != DFT_OK ||
            (rc = sync_history_add(v->db, "main", (int64_t)p[i].index, p[i].ops, err)) != DFT_OK) {
            goto out;
        }
    }
    *fast = 1;
out:
    if (view_ready) {
        view_release(&vw);
    }
    json_decref(heads);
    return rc;
}

enum dft_err
dft_vault_sync_apply(struct dft_vault *v, const struct dft_sync_entry *e, size_t count,
                     const struct dft_sync_keyring *ring, dft_sync_author_fn author_ok, void *ctx,
                     json_t **report, struct dft_error *err)
{
    return dft_vault_sync_apply_checked(v, e, count, ring, author_ok, ctx, NULL, NULL, report, err);
}

enum dft_err
dft_vault_sync_apply_checked(struct dft_vault *v, const struct dft_sync_entry *e, size_t count,
                             const struct dft_sync_keyring *ring, dft_sync_author_fn author_ok,
                             void *ctx, dft_sync_seen_fn seen_ok, void *seen_ctx, json_t **report,
                             struct dft_error *err)
{
    struct pulled *p = calloc(count + 1, sizeof *p);
    struct dft_keys *scratch = keys_new();
    struct dft_sync_keyring stored = {0, NULL};
    json_t *seen = json_array();
    json_t *heads = json_object(); /* head hex -> true, within this call */
    enum dft_err rc = DFT_OK;
    int attached = 0, in_tx = 0;
    size_t merged = 0, held = 0;
    if (p == NULL || scratch == NULL || seen == NULL || heads == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (count > 0 && e == NULL) {
        rc = dft_fail(err, DFT_ERR_USAGE, "no entries");
        goto out;
    }
    if ((rc = dft_vault_sync_keys_get(v, &stored, err)) != DFT_OK ||
        (rc = sync_tables(v->db, err)) != DFT_OK) {
        goto out;
    }
    /* 1. open and check every entry before anything is written */
    for (size_t i = 0; i < count; i++) {
        json_t *ops = NULL;
        if (i > 0 && e[i].index <= e[i - 1].index) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "pulled entries are out of log order");
            goto out;
        }
        if (e[i].index >= (uint64_t)MERGE_LOCAL) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "pulled entry index out of range");
            goto out;
        }
        p[i].index = e[i].index;
        p[i].body = e[i].body;
        p[i].len = e[i].len;
        p[i].local_idx = -1;
        rc = sync_entry_open(scratch, e[i].body, e[i].len, ring, &stored, &ops, p[i].author,
                             p[i].head, err);
        if (rc != DFT_OK) {
            if (err != NULL) {
                char m[DFT_ERROR_SIZE];
                snprintf(m, sizeof m, "%s", err->msg);
                err->code = DFT_OK;
                rc = dft_fail(err, rc, "entry %llu: %s", (unsigned long long)e[i].index, m);
            }
            goto out;
        }
        int have = stored_as(v->db, e[i].index, e[i].body, e[i].len);
        if (have < 0) {
            json_decref(ops);
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "entry %llu differs from the one pulled before at that index",
                          (unsigned long long)e[i].index);
            goto out;
        }
        p[i].skip = have == 1;
        int verdict = author_ok != NULL ? author_ok(ctx, p[i].author, e[i].index) : 0;
        if (verdict != 0 && verdict != 2) {
            json_decref(ops);
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "entry %llu is written by a key that may not write there",
                          (unsigned long long)e[i].index);
            goto out;
        }
        char hex[2 * DFT_HASH_BYTES + 1];
        dft_hex_encode(hex, p[i].head, DFT_HASH_BYTES);
        p[i].held = verdict == 2;
        if (!p[i].skip) {
            p[i].dup = json_object_get(heads, hex) != NULL || head_known(v->db, p[i].head);
            if (sodium_memcmp(p[i].author, v->keys->sign_pk, 32) == 0) {
                p[i].local_idx = own_envelope(v->db, p[i].head);
            }
            json_object_set_new(heads, hex, json_true());
            held += (size_t)p[i].held;
            merged += (size_t)(!p[i].held && !p[i].dup && p[i].local_idx < 0);
        }
        char author_b64[dft_b64_len(32)];
        dft_b64_encode(author_b64, p[i].author, 32);
        size_t k;
        json_t *op;
        json_array_foreach(ops, k, op)
        {
            json_t *s = json_object_get(op, "seen");
            if (s != NULL && !p[i].skip) {
                json_array_append_new(seen, json_pack("{sIsssOsO}", "index", (json_int_t)e[i].index,
                                                      "author", author_b64, "size",
                                                      json_object_get(s, "size"), "root",
                                                      json_object_get(s, "root")));
            }
        }
        p[i].ops = ops;
    }
    /* what other members saw of the log must agree with this device's view, before merging */
    if (seen_ok != NULL && json_array_size(seen) > 0 &&
        (rc = seen_ok(seen_ctx, seen, err)) != DFT_OK) {
        goto out;
    }
    /* 2. store them and rebuild the merged view, in one transaction; entries merged by an
     * earlier call are taken from the merged history, those before the first new one */
    int64_t reopen_from = -1;
    for (size_t i = 0; i < count && reopen_from < 0; i++) {
        if (!p[i].skip) {
            reopen_from = (int64_t)p[i].index;
        }
    }
    if (reopen_from < 0) {
        goto done; /* nothing new: the view is as it was */
    }
    if ((rc = store_exec(v->db, "ATTACH DATABASE ':memory:' AS sync_merge", err)) != DFT_OK) {
        goto out;
    }
    attached = 1;
    if ((rc = store_exec(v->db, "BEGIN IMMEDIATE", err)) != DFT_OK) {
        goto out;
    }
    in_tx = 1;
    int fast = 0;
    if ((rc = store_pulled(v, p, count, err)) != DFT_OK ||
        (rc = keep_keys(v, ring, err)) != DFT_OK ||
        (rc = apply_appended(v, p, count, &fast, err)) != DFT_OK) {
        goto out;
    }
    if (!fast &&
        ((rc = view_create_tables(v->db, "sync_merge", err)) != DFT_OK ||
         (rc = store_exec(v->db,
                          "CREATE TABLE sync_merge.sync_history(record TEXT NOT NULL,"
                          " sidx INTEGER NOT NULL, seq INTEGER NOT NULL, op TEXT NOT NULL,"
                          " PRIMARY KEY(record, sidx, seq)) WITHOUT ROWID",
                          err)) != DFT_OK ||
         (rc = sync_view_build(v, "sync_merge", "main", ring, reopen_from, NULL, err)) != DFT_OK ||
         (rc = sync_view_install(v, err)) != DFT_OK)) {
        goto out;
    }
    if ((rc = store_exec(v->db, "COMMIT", err)) != DFT_OK) {
        goto out;
    }
    in_tx = 0;
done:
    if (report != NULL) {
        *report = json_pack("{sIsIsO}", "merged", (json_int_t)merged, "held", (json_int_t)held,
                            "seen", seen);
        if (*report == NULL) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
out:
    if (in_tx) {
        store_rollback(v->db);
    }
    if (attached) {
        (void)sqlite3_exec(v->db, "DETACH DATABASE sync_merge", NULL, NULL, NULL);
    }
    dft_sync_keyring_free(&stored);
    keys_free(scratch);
    for (size_t i = 0; p != NULL && i < count; i++) {
        json_decref(p[i].ops);
    }
    free(p);
    json_decref(seen);
    json_decref(heads);
    return rc;
}
