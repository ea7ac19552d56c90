/*
 * witness_req.h - the body of a C2SP tlog-witness add-checkpoint request (c2sp.org/tlog-witness):
 * "old N\n", 0..63 base64 consistency-proof lines, a blank line, then a checkpoint note, and the
 * head of a checkpoint (origin, size, root; extension lines allowed). Shared by the witness
 * server (parsing) and the cosigning client (formatting). Internal to libdefter.
 *
 * The parser borrows: note points into the caller's body. It never accepts a size with a sign,
 * leading zeros or above DFT_TLOG_SIZE_MAX, a hash that is not exactly 32 bytes of canonical
 * base64, more than WITNESS_PROOF_MAX proof lines, or a body above WITNESS_BODY_MAX.
 */
#ifndef DEFTER_LOG_WITNESS_REQ_H
#define DEFTER_LOG_WITNESS_REQ_H

#include "defter/core.h"
#include "log/tlog.h"

#define WITNESS_BODY_MAX  (64u * 1024u) /* bytes of one add-checkpoint body (413 above) */
#define WITNESS_PROOF_MAX 63            /* consistency-proof lines the protocol allows */

struct witness_req {
    uint64_t old_size;
    unsigned char proof[WITNESS_PROOF_MAX][DFT_TLOG_HASH_BYTES];
    size_t nproof;
    const char *note; /* the checkpoint with its signatures, inside the parsed body */
    size_t note_len;
};

/* Parse an add-checkpoint body. DFT_ERR_INPUT names the problem; DFT_ERR_TOO_LARGE above caps. */
enum dft_err witness_req_parse(struct witness_req *r, const char *body, size_t len,
                               struct dft_error *err) DFT_MUST_CHECK;

/* Append the body for old_size, proof[0..n) and the note to out. */
enum dft_err witness_req_format(struct dft_buf *out, uint64_t old_size,
                                const unsigned char (*proof)[DFT_TLOG_HASH_BYTES], size_t n,
                                const char *note, size_t note_len,
                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * Parse the first three lines of checkpoint text (origin, size, base64 root); further lines are
 * extensions and are allowed (a witness serves logs other than Defter's). DFT_ERR_INPUT
 * otherwise.
 */
enum dft_err witness_checkpoint_head(struct dft_checkpoint *c, const char *text, size_t len,
                                     struct dft_error *err) DFT_MUST_CHECK;

/* Strict decimal: no sign, no leading zero (but "0"), at most DFT_TLOG_SIZE_MAX. 0 or -1. */
int witness_parse_size(const char *s, size_t n, uint64_t *out);

#endif
