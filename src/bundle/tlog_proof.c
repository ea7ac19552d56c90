/*
 * tlog_proof.c - C2SP tlog-proof@v1 (c2sp.org/tlog-proof): a log index, its inclusion proof and
 * the checkpoint it proves against, as one text file. Parsed strictly (docs/bundle-format.md).
 */
#include <string.h>

#include "defter/bundle.h"
#include "log/tlog.h"

#define PROOF_HEADER "c2sp.org/tlog-proof@v1\n"

enum dft_err
dft_tlog_proof_format(struct dft_buf *out, uint64_t index, const unsigned char (*hashes)[32],
                      size_t n, const char *checkpoint, size_t checkpoint_len,
                      struct dft_error *err)
{
    if (dft_buf_addf(out, "%sindex %llu\n", PROOF_HEADER, (unsigned long long)index) != DFT_OK) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        char b64[DFT_TLOG_HASH_B64];
        tlog_hash_encode(b64, hashes[i]);
        if (dft_buf_addf(out, "%s\n", b64) != DFT_OK) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    if (dft_buf_add(out, "\n", 1) != DFT_OK ||
        dft_buf_add(out, checkpoint, checkpoint_len) != DFT_OK) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

/* The line at *pos (without its newline) into line/len; 0 when there is no complete line. */
static int
next_line(const char *text, size_t total, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= total) {
        return 0;
    }
    const char *nl = memchr(text + *pos, '\n', total - *pos);
    if (nl == NULL) {
        return 0;
    }
    *line = text + *pos;
    *len = (size_t)(nl - (text + *pos));
    *pos += *len + 1;
    return 1;
}

static int
parse_decimal(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0')) {
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 1;
}

enum dft_err
dft_tlog_proof_parse(struct dft_tlog_proof *p, const char *text, size_t len, struct dft_error *err)
{
    const char *bad = "malformed tlog-proof";
    memset(p, 0, sizeof *p);
    if (len > DFT_TLOG_PROOF_TEXT_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "%s: too large", bad);
    }
    size_t pos = 0, n = 0;
    const char *line = NULL;
    if (len < strlen(PROOF_HEADER) || memcmp(text, PROOF_HEADER, strlen(PROOF_HEADER)) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "%s: it does not start with c2sp.org/tlog-proof@v1",
                        bad);
    }
    pos = strlen(PROOF_HEADER);
    if (!next_line(text, len, &pos, &line, &n)) {
        return dft_fail(err, DFT_ERR_INPUT, "%s: no index line", bad);
    }
    if (n > 6 && memcmp(line, "extra ", 6) == 0) {
        unsigned char tmp[4096];
        size_t tl = 0;
        if (dft_b64_decode(tmp, sizeof tmp, &tl, line + 6, n - 6) != DFT_OK) {
            return dft_fail(err, DFT_ERR_INPUT, "%s: bad extra line", bad);
        }
        if (!next_line(text, len, &pos, &line, &n)) {
            return dft_fail(err, DFT_ERR_INPUT, "%s: no index line", bad);
        }
    }
    if (n < 7 || memcmp(line, "index ", 6) != 0 || !parse_decimal(line + 6, n - 6, &p->index)) {
        return dft_fail(err, DFT_ERR_INPUT, "%s: bad index line", bad);
    }
    for (;;) {
        if (!next_line(text, len, &pos, &line, &n)) {
            return dft_fail(err, DFT_ERR_INPUT, "%s: no checkpoint after the proof", bad);
        }
        if (n == 0) {
            break;
        }
        if (p->n == DFT_TLOG_PROOF_HASHES_MAX) {
            return dft_fail(err, DFT_ERR_INPUT, "%s: too many proof hashes", bad);
        }
        struct dft_error ignored;
        if (tlog_hash_decode(p->hashes[p->n], line, n, &ignored) != DFT_OK) {
            return dft_fail(err, DFT_ERR_INPUT, "%s: bad proof hash %zu", bad, p->n + 1);
        }
        p->n++;
    }
    if (pos >= len) {
        return dft_fail(err, DFT_ERR_INPUT, "%s: no checkpoint after the proof", bad);
    }
    p->checkpoint = text + pos;
    p->checkpoint_len = len - pos;
    return DFT_OK;
}
