/*
 * verify_history.c - the history table compared as a keyed multiset digest (verify_history.h).
 */
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "vault/envelope.h"
#include "vault/verify_history.h"
#include "vault/view.h"

static void
put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* Add one row: BLAKE2b-256_key(len32(record) ‖ record ‖ idx64 ‖ seq64 ‖ op), lane by lane. */
static void
digest_row(struct verify_digest *d, const crypto_generichash_state *keyed, const char *record,
           size_t rlen, int64_t idx, int64_t seq, const void *op, size_t op_len)
{
    crypto_generichash_state st = *keyed; /* keyed once per call of the callers below */
    unsigned char head[4], nums[16], h[32];
    put_be(head, (uint64_t)rlen, 4);
    put_be(nums, (uint64_t)idx, 8);
    put_be(nums + 8, (uint64_t)seq, 8);
    crypto_generichash_update(&st, head, sizeof head);
    crypto_generichash_update(&st, (const unsigned char *)record, rlen);
    crypto_generichash_update(&st, nums, sizeof nums);
    crypto_generichash_update(&st, op, op_len);
    crypto_generichash_final(&st, h, sizeof h);
    for (int l = 0; l < 4; l++) {
        uint64_t v = 0;
        memcpy(&v, h + 8 * l, 8);
        d->lane[l] += v;
    }
    d->rows++;
    sodium_memzero(&st, sizeof st);
}

void
verify_digest_ops(struct verify_digest *d, const unsigned char *key, int64_t idx,
                  const json_t *items, size_t from, size_t to, struct dft_buf *scratch)
{
    verify_digest_ops_kept(d, key, idx, items, NULL, from, to, scratch);
}

void
verify_digest_ops_kept(struct verify_digest *d, const unsigned char *key, int64_t idx,
                       const json_t *items, const struct envelope_plain *plain, size_t from,
                       size_t to, struct dft_buf *scratch)
{
    int kept = plain != NULL && plain->canonical && plain->op_off != NULL && plain->op_len != NULL;
    struct dft_error ignored = {0};
    crypto_generichash_state keyed;
    crypto_generichash_init(&keyed, key, VERIFY_DIGEST_KEY_BYTES, 32);
    for (size_t i = from; i < to; i++) {
        const json_t *op = json_object_get(json_array_get(items, i), "op");
        const char *ids[2];
        op_touched(op, &ids[0], &ids[1]);
        if (ids[1] != NULL && ids[0] != NULL && strcmp(ids[0], ids[1]) == 0) {
            ids[1] = NULL; /* one row: the table's key is (record, idx, seq) */
        }
        if (ids[0] == NULL && ids[1] == NULL) {
            continue;
        }
        const unsigned char *text;
        size_t len;
        if (kept && plain->op_len[i] > 0) {
            text = plain->data + plain->op_off[i]; /* the op's canonical JSON, as written */
            len = plain->op_len[i];
        } else {
            dft_buf_reset(scratch);
            if (json_canonical(op, scratch, &ignored) != DFT_OK) {
                d->broken = 1; /* view_apply reports it, or the table comparison does */
            }
            text = scratch->data;
            len = scratch->len;
        }
        for (int k = 0; k < 2 && !d->broken; k++) {
            if (ids[k] != NULL) {
                digest_row(d, &keyed, ids[k], strlen(ids[k]), idx, (int64_t)i, text, len);
            }
        }
        if (scratch->data != NULL) {
            sodium_memzero(scratch->data, scratch->len);
        }
    }
    sodium_memzero(&keyed, sizeof keyed);
}

void
verify_digest_merge(struct verify_digest *into, const struct verify_digest *from)
{
    for (int l = 0; l < 4; l++) {
        into->lane[l] += from->lane[l];
    }
    into->rows += from->rows;
    into->broken |= from->broken;
}

enum dft_err
verify_digest_stored(sqlite3 *db, const unsigned char *key, struct verify_digest *have,
                     struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    crypto_generichash_state keyed;
    crypto_generichash_init(&keyed, key, VERIFY_DIGEST_KEY_BYTES, 32);
    *have = (struct verify_digest){{0, 0, 0, 0}, 0, 0};
    int src =
        sqlite3_prepare_v2(db, "SELECT record, idx, seq, op FROM main.history", -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_TEXT ||
            sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
            sqlite3_column_type(st, 2) != SQLITE_INTEGER ||
            sqlite3_column_type(st, 3) != SQLITE_TEXT) {
            have->broken = 1; /* the rebuilt rows are never of another type */
            src = SQLITE_DONE;
            break;
        }
        const unsigned char *rec = sqlite3_column_text(st, 0);
        size_t rlen = (size_t)sqlite3_column_bytes(st, 0);
        const unsigned char *op = sqlite3_column_text(st, 3);
        size_t olen = (size_t)sqlite3_column_bytes(st, 3);
        digest_row(have, &keyed, (const char *)rec, rlen, sqlite3_column_int64(st, 1),
                   sqlite3_column_int64(st, 2), op, olen);
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    sodium_memzero(&keyed, sizeof keyed);
    if (src != SQLITE_DONE) {
        return store_error(db, src, "cannot read the history", err);
    }
    return DFT_OK;
}

int
verify_digest_equal(const struct verify_digest *have, const struct verify_digest *want)
{
    return !have->broken && !want->broken && have->rows == want->rows &&
           sodium_memcmp(have->lane, want->lane, sizeof have->lane) == 0;
}
