/*
 * state.c - the log state sealed into the vault header: the latest tree size and root, so that a
 * vault database rolled back to an older copy (or replaced by another history) is caught when
 * the vault opens.
 *
 * The sealed state only ever proves a lower bound: the database may be ahead of it (a crash
 * between the database commit and the header write), never behind it or forked from it. This
 * file seals and opens the state and compares it with the tree; it never writes the header (the
 * vault does) and never accepts a state it could not authenticate.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/aead.h"
#include "store/store.h"
#include "log/tlog.h"

#define NONCE_BYTES CRYPTO_XCHACHA_NONCE_BYTES
#define TAG_BYTES   CRYPTO_XCHACHA_TAG_BYTES
#define PLAIN_BYTES (1 + 8 + DFT_TLOG_HASH_BYTES)
#define AD_LABEL    "defter/tlog-state/v1"
#define AD_BYTES    (sizeof AD_LABEL - 1 + DFT_TLOG_STATE_ID_BYTES)

_Static_assert(DFT_TLOG_STATE_BYTES == NONCE_BYTES + PLAIN_BYTES + TAG_BYTES,
               "sealed state layout");

static void
state_ad(unsigned char ad[AD_BYTES], const unsigned char vault_id[DFT_TLOG_STATE_ID_BYTES])
{
    memcpy(ad, AD_LABEL, sizeof AD_LABEL - 1);
    memcpy(ad + sizeof AD_LABEL - 1, vault_id, DFT_TLOG_STATE_ID_BYTES);
}

void
tlog_state_seal(unsigned char out[DFT_TLOG_STATE_BYTES], const struct dft_tlog_state *st,
                const unsigned char key[32], const unsigned char vault_id[DFT_TLOG_STATE_ID_BYTES])
{
    unsigned char plain[PLAIN_BYTES];
    unsigned char ad[AD_BYTES];
    plain[0] = DFT_TLOG_STATE_VERSION;
    for (int i = 0; i < 8; i++) {
        plain[1 + i] = (unsigned char)(st->size >> (56 - 8 * i));
    }
    memcpy(plain + 9, st->root, DFT_TLOG_HASH_BYTES);
    state_ad(ad, vault_id);
    crypto_xchacha_nonce(out);
    crypto_xchacha_seal(out + NONCE_BYTES, plain, sizeof plain, ad, sizeof ad, out, key);
    sodium_memzero(plain, sizeof plain);
}

enum dft_err
tlog_state_open(struct dft_tlog_state *st, const unsigned char *in, size_t len,
                const unsigned char key[32], const unsigned char vault_id[DFT_TLOG_STATE_ID_BYTES],
                struct dft_error *err)
{
    const char *what = "the vault header's sealed log state";
    unsigned char plain[PLAIN_BYTES];
    unsigned char ad[AD_BYTES];
    if (len != DFT_TLOG_STATE_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s has a wrong length (%zu bytes)", what, len);
    }
    state_ad(ad, vault_id);
    if (crypto_xchacha_open(plain, in + NONCE_BYTES, len - NONCE_BYTES, ad, sizeof ad, in, key) !=
        DFT_OK) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s does not authenticate (tampered)", what);
    }
    uint64_t size = 0;
    for (int i = 0; i < 8; i++) {
        size = size << 8 | plain[1 + i];
    }
    if (plain[0] != DFT_TLOG_STATE_VERSION || size > DFT_TLOG_SIZE_MAX) {
        sodium_memzero(plain, sizeof plain);
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s has an unknown version", what);
    }
    st->size = size;
    memcpy(st->root, plain + 9, DFT_TLOG_HASH_BYTES);
    sodium_memzero(plain, sizeof plain);
    return DFT_OK;
}

enum dft_err
tlog_state_check(sqlite3 *db, const struct dft_tlog_state *sealed, struct dft_tlog_state *current,
                 struct dft_error *err)
{
    static const char rolled[] = "vault database is older than its header: rolled back or replaced";
    struct dft_tlog_reader *r = NULL;
    struct dft_tlog_state now;
    unsigned char root[DFT_TLOG_HASH_BYTES];
    enum dft_err rc = tlog_size(db, &now.size, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (now.size < sealed->size) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (log size %llu, header says %llu)", rolled,
                        (unsigned long long)now.size, (unsigned long long)sealed->size);
    }
    if ((rc = tlog_reader_open(db, &r, err)) != DFT_OK) {
        return rc;
    }
    if ((rc = tlog_reader_root(r, sealed->size, root, err)) == DFT_OK) {
        if (sodium_memcmp(root, sealed->root, DFT_TLOG_HASH_BYTES) != 0) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "%s (the log differs at size %llu)", rolled,
                          (unsigned long long)sealed->size);
        }
    }
    if (rc == DFT_OK && current != NULL) {
        if (now.size == sealed->size) {
            memcpy(now.root, root, DFT_TLOG_HASH_BYTES);
        } else {
            rc = tlog_reader_root(r, now.size, now.root, err);
        }
        if (rc == DFT_OK) {
            *current = now;
        }
    }
    tlog_reader_close(r);
    return rc;
}

enum dft_err
tlog_state_marked(sqlite3 *db, int *marked, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(db, "SELECT 1 FROM tlog_meta WHERE key = 'sealed_state'", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_error(db, rc, "transparency log", err);
    }
    *marked = rc == SQLITE_ROW;
    return DFT_OK;
}

enum dft_err
tlog_state_mark(sqlite3 *db, struct dft_error *err)
{
    return store_exec(db, "INSERT OR IGNORE INTO tlog_meta(key, value) VALUES ('sealed_state', 1)",
                      err);
}
