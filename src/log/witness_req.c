/*
 * witness_req.c - add-checkpoint request bodies (c2sp.org/tlog-witness) and checkpoint heads.
 *
 * Strict on purpose: a witness answers 400 to anything it cannot read exactly, and never guesses
 * what a sloppy body meant. This file must never read past len nor accept a proof line that is
 * not a 32-byte hash.
 */
#include <string.h>

#include "log/witness_req.h"

int
witness_parse_size(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0')) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (DFT_TLOG_SIZE_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The line at pos (without its newline) into line and line_len; -1 when no newline follows. */
static int
next_line(const char *s, size_t len, size_t *pos, const char **line, size_t *line_len)
{
    if (*pos >= len) {
        return -1;
    }
    const char *nl = memchr(s + *pos, '\n', len - *pos);
    if (nl == NULL) {
        return -1;
    }
    *line = s + *pos;
    *line_len = (size_t)(nl - *line);
    *pos += *line_len + 1;
    return 0;
}

enum dft_err
witness_req_parse(struct witness_req *r, const char *body, size_t len, struct dft_error *err)
{
    const char *line = NULL;
    size_t line_len = 0, pos = 0;
    memset(r, 0, sizeof *r);
    if (len > WITNESS_BODY_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "request is larger than %u bytes",
                        WITNESS_BODY_MAX);
    }
    if (next_line(body, len, &pos, &line, &line_len) != 0 || line_len < 5 ||
        memcmp(line, "old ", 4) != 0 ||
        witness_parse_size(line + 4, line_len - 4, &r->old_size) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "request does not start with a line 'old SIZE'");
    }
    for (;;) {
        if (next_line(body, len, &pos, &line, &line_len) != 0) {
            return dft_fail(err, DFT_ERR_INPUT, "request has no blank line before its checkpoint");
        }
        if (line_len == 0) {
            break;
        }
        if (r->nproof == WITNESS_PROOF_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "request has more than %d proof lines",
                            WITNESS_PROOF_MAX);
        }
        size_t got = 0;
        unsigned char h[DFT_TLOG_HASH_BYTES + 3];
        if (dft_b64_decode(h, sizeof h, &got, line, line_len) != DFT_OK ||
            got != DFT_TLOG_HASH_BYTES) {
            return dft_fail(err, DFT_ERR_INPUT, "proof line %zu is not a base64 SHA-256 hash",
                            r->nproof + 1);
        }
        memcpy(r->proof[r->nproof++], h, DFT_TLOG_HASH_BYTES);
    }
    if (pos >= len) {
        return dft_fail(err, DFT_ERR_INPUT, "request has no checkpoint");
    }
    r->note = body + pos;
    r->note_len = len - pos;
    return DFT_OK;
}

enum dft_err
witness_req_format(struct dft_buf *out, uint64_t old_size,
                   const unsigned char (*proof)[DFT_TLOG_HASH_BYTES], size_t n, const char *note,
                   size_t note_len, struct dft_error *err)
{
    if (n > WITNESS_PROOF_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "consistency proof has more than %d hashes",
                        WITNESS_PROOF_MAX);
    }
    if (dft_buf_addf(out, "old %llu\n", (unsigned long long)old_size) != DFT_OK) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        char b64[DFT_TLOG_HASH_B64];
        tlog_hash_encode(b64, proof[i]);
        if (dft_buf_adds(out, b64) != DFT_OK || dft_buf_add(out, "\n", 1) != DFT_OK) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    if (dft_buf_add(out, "\n", 1) != DFT_OK || dft_buf_add(out, note, note_len) != DFT_OK) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "add-checkpoint request is too large");
    }
    return DFT_OK;
}

enum dft_err
witness_checkpoint_head(struct dft_checkpoint *c, const char *text, size_t len,
                        struct dft_error *err)
{
    const char *line[3];
    size_t line_len[3], pos = 0;
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 3; i++) {
        if (next_line(text, len, &pos, &line[i], &line_len[i]) != 0 || line_len[i] == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "checkpoint does not have origin, size and root");
        }
    }
    if (line_len[0] > DFT_NOTE_NAME_MAX || !dft_utf8_valid(line[0], line_len[0])) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint origin is too long or not UTF-8");
    }
    for (size_t i = 0; i < line_len[0]; i++) {
        if ((unsigned char)line[0][i] < 0x20 || line[0][i] == 0x7f) {
            return dft_fail(err, DFT_ERR_INPUT, "checkpoint origin has a control character");
        }
    }
    memcpy(c->origin, line[0], line_len[0]);
    if (witness_parse_size(line[1], line_len[1], &c->size) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint size is not a decimal tree size");
    }
    if (tlog_hash_decode(c->root, line[2], line_len[2], NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint root is not a base64 SHA-256 hash");
    }
    return DFT_OK;
}
