/*
 * checkpoint.c - C2SP tlog-checkpoint bodies of Defter's log: origin, size, root; signing them
 * as notes and opening signed ones with the log key and witness keys.
 *
 * Defter checkpoints have exactly three lines; anything else is rejected. This file must never
 * return a checkpoint whose log signature it did not verify.
 */
#include <string.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "log/tlog.h"

void
tlog_origin(char out[DFT_TLOG_ORIGIN_BYTES], const unsigned char pub[32])
{
    unsigned char h[DFT_HASH_BYTES];
    char hex[2 * DFT_HASH_BYTES + 1];
    crypto_sha256_once(h, pub, 32);
    dft_hex_encode(hex, h, sizeof h);
    memcpy(out, DFT_TLOG_ORIGIN_PREFIX, 13);
    memcpy(out + 13, hex, 16);
    out[29] = '\0';
}

void
tlog_log_verifier(struct dft_note_verifier *v, const unsigned char pub[32])
{
    char origin[DFT_TLOG_ORIGIN_BYTES];
    tlog_origin(origin, pub);
    memset(v, 0, sizeof *v);
    memcpy(v->name, origin, sizeof origin);
    v->alg = DFT_NOTE_ALG_ED25519;
    memcpy(v->pub, pub, 32);
    v->key_id = note_key_id(v->name, v->alg, pub);
}

enum dft_err
checkpoint_format(struct dft_buf *out, const struct dft_checkpoint *c, struct dft_error *err)
{
    char root[DFT_TLOG_HASH_B64];
    tlog_hash_encode(root, c->root);
    if (c->origin[0] == '\0' || strchr(c->origin, '\n') != NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint origin is empty or has a newline");
    }
    if (dft_buf_addf(out, "%s\n%llu\n%s\n", c->origin, (unsigned long long)c->size, root) !=
        DFT_OK) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot format checkpoint: out of memory");
    }
    return DFT_OK;
}

enum dft_err
checkpoint_parse(struct dft_checkpoint *c, const char *text, size_t len, struct dft_error *err)
{
    const char *line[3];
    size_t line_len[3];
    size_t pos = 0;
    for (int i = 0; i < 3; i++) {
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        if (nl == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "checkpoint has fewer than three lines");
        }
        line[i] = text + pos;
        line_len[i] = (size_t)(nl - line[i]);
        if (line_len[i] == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "checkpoint line %d is empty", i + 1);
        }
        pos += line_len[i] + 1;
    }
    if (pos != len) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint has extension lines or trailing data");
    }
    if (line_len[0] > DFT_NOTE_NAME_MAX || !dft_utf8_valid(line[0], line_len[0]) ||
        memchr(line[0], ' ', line_len[0]) != NULL || memchr(line[0], '+', line_len[0]) != NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint origin is not a valid log name");
    }
    for (size_t i = 0; i < line_len[0]; i++) {
        if ((unsigned char)line[0][i] < 0x20 || line[0][i] == 0x7f) {
            return dft_fail(err, DFT_ERR_INPUT, "checkpoint origin is not a valid log name");
        }
    }
    /* Decimal, no sign, no leading zero (except "0"), at most DFT_TLOG_SIZE_MAX. */
    if (line_len[1] > 19 || (line_len[1] > 1 && line[1][0] == '0')) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint size is not a canonical decimal");
    }
    uint64_t size = 0;
    for (size_t i = 0; i < line_len[1]; i++) {
        char d = line[1][i];
        if (d < '0' || d > '9') {
            return dft_fail(err, DFT_ERR_INPUT, "checkpoint size is not a canonical decimal");
        }
        size = size * 10 + (uint64_t)(d - '0');
    }
    if (size > DFT_TLOG_SIZE_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint size is too large");
    }
    unsigned char root[DFT_TLOG_HASH_BYTES];
    if (tlog_hash_decode(root, line[2], line_len[2], NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "checkpoint root is not the base64 of 32 bytes");
    }
    memset(c, 0, sizeof *c);
    memcpy(c->origin, line[0], line_len[0]);
    c->size = size;
    memcpy(c->root, root, sizeof root);
    return DFT_OK;
}

enum dft_err
checkpoint_sign(struct dft_buf *out, const struct dft_checkpoint *c, const unsigned char sk[64],
                struct dft_error *err)
{
    struct dft_buf body;
    dft_buf_init(&body, DFT_NOTE_MAX_BYTES, 0);
    enum dft_err rc = checkpoint_format(&body, c, err);
    if (rc == DFT_OK) {
        size_t mark = out->len;
        if (dft_buf_add(out, body.data, body.len) != DFT_OK ||
            dft_buf_add(out, "\n", 1) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "cannot sign checkpoint: out of memory");
        } else {
            rc = note_sign_line(out, (const char *)body.data, body.len, c->origin, sk, err);
        }
        if (rc != DFT_OK) {
            out->len = mark;
            if (out->data != NULL) {
                out->data[mark] = '\0';
            }
        }
    }
    dft_buf_release(&body);
    return rc;
}

enum dft_err
checkpoint_open(struct dft_checkpoint *c, const char *msg, size_t len,
                const struct dft_note_verifier *log, const struct dft_note_verifier *ws, size_t nws,
                struct dft_note_check *wchecks, struct dft_error *err)
{
    struct dft_note n;
    struct dft_note_verifier vs[1 + DFT_NOTE_SIGS_MAX];
    struct dft_note_check checks[1 + DFT_NOTE_SIGS_MAX];
    struct dft_checkpoint parsed;
    if (nws > DFT_NOTE_SIGS_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "more than %d witness keys", DFT_NOTE_SIGS_MAX);
    }
    enum dft_err rc = note_parse(&n, msg, len, err);
    if (rc != DFT_OK) {
        return rc;
    }
    vs[0] = *log;
    for (size_t i = 0; i < nws; i++) {
        vs[1 + i] = ws[i];
    }
    if ((rc = note_verify(&n, vs, 1 + nws, checks, err)) != DFT_OK) {
        goto out;
    }
    if (!checks[0].verified) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "checkpoint is not signed by the log key %s",
                      log->name);
        goto out;
    }
    if ((rc = checkpoint_parse(&parsed, n.text, n.text_len, err)) != DFT_OK) {
        goto out;
    }
    if (strcmp(parsed.origin, log->name) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "checkpoint origin does not name the log key");
        goto out;
    }
    *c = parsed;
    if (wchecks != NULL) {
        for (size_t i = 0; i < nws; i++) {
            wchecks[i] = checks[1 + i];
        }
    }
out:
    note_release(&n);
    return rc;
}
