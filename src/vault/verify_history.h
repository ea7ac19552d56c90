/*
 * verify_history.h - verify's comparison of the history table as a keyed multiset digest.
 * Internal to src/vault (verify.c, verify_pipe.c).
 *
 * The history holds a row per operation and record it touches (the operation's canonical text):
 * the largest table, and rebuilding it as a table to compare costs an insert per row and a sort.
 * Instead, each row the operations give, (record, idx, seq, op), and each row stored are hashed
 * with BLAKE2b-256 keyed by 32 random bytes drawn for this verify run (never stored, never
 * shown), and the hashes are summed (four 64-bit lanes) with a count of rows: the sums agree for
 * the same set of rows in any order, and for any other set only with the chance of guessing the
 * keyed hashes of rows nobody could compute beforehand (an incremental multiset hash with a
 * secret key, Clarke et al. 2003). Rows are set-like on both sides (the table's key is
 * (record, idx, seq); an operation naming the same record twice gives one row). A difference is
 * never reported from here: verify then builds the table and compares it row by row as before,
 * for the same message.
 */
#ifndef DEFTER_VAULT_VERIFY_HISTORY_H
#define DEFTER_VAULT_VERIFY_HISTORY_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "defter/core.h"

struct envelope_plain; /* vault/envelope.h */

#define VERIFY_DIGEST_KEY_BYTES 32

struct verify_digest {
    uint64_t lane[4];
    uint64_t rows;
    int broken; /* a row could not be made: never equal (verify then compares the table) */
};

/*
 * Add the history rows of items [from, to) of envelope idx (decrypted {"op", ...} items) as
 * view_apply would write them. scratch holds the canonical text (wiped here after each use).
 * Only reads the items: two ranges may run at once, into two digests.
 */
void verify_digest_ops(struct verify_digest *d, const unsigned char *key, int64_t idx,
                       const json_t *items, size_t from, size_t to, struct dft_buf *scratch);
/*
 * The same, taking each op's canonical text from the envelope's plaintext where the parse
 * located it (plain->canonical: envelope.h) instead of encoding the op again.
 */
void verify_digest_ops_kept(struct verify_digest *d, const unsigned char *key, int64_t idx,
                            const json_t *items, const struct envelope_plain *plain, size_t from,
                            size_t to, struct dft_buf *scratch);
void verify_digest_merge(struct verify_digest *into, const struct verify_digest *from);
/*
 * Sum the rows main.history holds into have (broken when a column is of another type); an
 * error reading the table is an error. verify runs it while it waits for an envelope's parse.
 */
enum dft_err verify_digest_stored(sqlite3 *db, const unsigned char *key, struct verify_digest *have,
                                  struct dft_error *err) DFT_MUST_CHECK;
/* 1 when both digests hold the same rows (neither broken), else 0; constant-time compare. */
int verify_digest_equal(const struct verify_digest *have, const struct verify_digest *want);
#endif
