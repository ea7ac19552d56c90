/*
 * witness_client.h - what a vault keeps to ask its witnesses: each witness's URL and the last
 * size it held (table tlog_witness_urls), and the C2SP tlog-policy text chosen with
 * `witness policy --file` (table tlog_witness_policy), in the vault's encrypted database.
 * Trust itself stays in the signed witness operations (witness.c); these tables only say where
 * to ask and what quorum to reach. Internal to libdefter.
 */
#ifndef DEFTER_LOG_WITNESS_CLIENT_H
#define DEFTER_LOG_WITNESS_CLIENT_H

#include <sqlite3.h>

#include "defter/core.h"
#include "log/tlog.h"
#include "log/policy.h"

#define WCLIENT_URL_MAX POLICY_URL_MAX

/* CREATE TABLE IF NOT EXISTS for both tables (any transaction or none). */
enum dft_err wclient_setup(sqlite3 *db, struct dft_error *err) DFT_MUST_CHECK;
/* DFT_ERR_INPUT unless url is http(s)://, without spaces or controls, below WCLIENT_URL_MAX. */
enum dft_err wclient_url_check(const char *url, struct dft_error *err) DFT_MUST_CHECK;
/* Set the URL of a witness key (canonical vkey string). Keeps its last size. */
enum dft_err wclient_set_url(sqlite3 *db, const char *vkey, const char *url,
                             struct dft_error *err) DFT_MUST_CHECK;
/* URL ("" when none) and last size (0 when unknown) of vkey. */
enum dft_err wclient_get(sqlite3 *db, const char *vkey, char url[WCLIENT_URL_MAX],
                         uint64_t *last_size, struct dft_error *err) DFT_MUST_CHECK;
enum dft_err wclient_set_last(sqlite3 *db, const char *vkey, uint64_t last_size,
                              struct dft_error *err) DFT_MUST_CHECK;
/* The stored policy text into out; DFT_ERR_NOT_FOUND when none. */
enum dft_err wclient_policy_get(sqlite3 *db, struct dft_buf *out,
                                struct dft_error *err) DFT_MUST_CHECK;
/* Store (text != NULL) or clear (NULL) the policy text. */
enum dft_err wclient_policy_set(sqlite3 *db, const char *text, size_t len,
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * c2sp.org/tlog-proof@v1: "c2sp.org/tlog-proof@v1\nindex N\n", the inclusion hashes in base64
 * one per line, a blank line, then the checkpoint note as given. Appends to out.
 */
enum dft_err tlog_proof_format(struct dft_buf *out, uint64_t index,
                               const unsigned char (*proof)[DFT_TLOG_HASH_BYTES], size_t n,
                               const char *note, size_t note_len,
                               struct dft_error *err) DFT_MUST_CHECK;

#endif
