/*
 * note.c - C2SP signed notes (c2sp.org/signed-note): strict parsing, verifier keys, Ed25519
 * signatures (type 0x01) and tlog-cosignature/v1 witness cosignatures (type 0x04).
 *
 * Parsing is strict on purpose: a note with sloppy framing is rejected, never repaired. This
 * file must never accept a note on a signature it did not verify, nor let an unknown key's
 * signature count.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "defter/crypto.h"
#include "log/tlog.h"

static const char em_dash[] = "\xe2\x80\x94 "; /* U+2014 then a space */
#define EM_DASH_LEN 4

/* Decode one UTF-8 code point at s (already validated); returns its length. */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80 || n < 2) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0) {
        *cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
        return 2;
    }
    if ((s[0] & 0xf0) == 0xe0 && n >= 3) {
        *cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
        return 3;
    }
    if (n >= 4) {
        *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
              (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
        return 4;
    }
    *cp = s[0];
    return 1;
}

/* Unicode White_Space (Go's unicode.IsSpace). */
static int
is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* A key name: non-empty, UTF-8, no spaces, no '+', at most DFT_NOTE_NAME_MAX bytes. */
static int
name_valid(const char *s, size_t n)
{
    if (n == 0 || n > DFT_NOTE_NAME_MAX || !dft_utf8_valid(s, n)) {
        return 0;
    }
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        i += utf8_next(p + i, n - i, &cp);
        if (is_space(cp) || cp == '+' || cp < 0x20 || cp == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Valid note text: UTF-8, no control character but newline, ends in newline, lines capped. */
static enum dft_err
text_valid(const char *s, size_t n, const char *what, struct dft_error *err)
{
    if (n > DFT_NOTE_MAX_BYTES) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "%s is larger than %d bytes", what,
                        DFT_NOTE_MAX_BYTES);
    }
    if (n == 0 || s[n - 1] != '\n') {
        return dft_fail(err, DFT_ERR_INPUT, "%s does not end in a newline", what);
    }
    if (!dft_utf8_valid(s, n)) {
        return dft_fail(err, DFT_ERR_INPUT, "%s is not valid UTF-8", what);
    }
    size_t line = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            line = 0;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            return dft_fail(err, DFT_ERR_INPUT, "%s contains a control character", what);
        }
        if (++line > DFT_NOTE_LINE_MAX) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "%s has a line longer than %d bytes", what,
                            DFT_NOTE_LINE_MAX);
        }
    }
    return DFT_OK;
}

void
note_release(struct dft_note *n)
{
    if (n == NULL) {
        return;
    }
    free(n->mem);
    memset(n, 0, sizeof *n);
}

enum dft_err
note_parse(struct dft_note *n, const char *msg, size_t len, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    memset(n, 0, sizeof *n);
    if ((rc = text_valid(msg, len, "note", err)) != DFT_OK) {
        return rc;
    }
    /* The text ends at the last blank line. */
    size_t sep = len;
    for (size_t i = len - 1; i-- > 0;) {
        if (msg[i] == '\n' && msg[i + 1] == '\n') {
            sep = i;
            break;
        }
    }
    if (sep == len) {
        return dft_fail(err, DFT_ERR_INPUT, "note has no blank line before its signatures");
    }
    if (sep == 0 || msg[0] == '\n') {
        return dft_fail(err, DFT_ERR_INPUT, "note text is empty or starts with a blank line");
    }
    char *mem = malloc(2 * len + 1);
    if (mem == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memcpy(mem, msg, len);
    mem[len] = '\0';
    unsigned char *dec = (unsigned char *)mem + len + 1;
    size_t dec_used = 0;

    size_t pos = sep + 2;
    if (pos >= len) {
        rc = dft_fail(err, DFT_ERR_INPUT, "note has no signature lines");
        goto out;
    }
    while (pos < len) {
        const char *line = mem + pos;
        const char *nl = memchr(line, '\n', len - pos);
        DFT_ASSERT(nl != NULL); /* the note ends in a newline */
        size_t line_len = (size_t)(nl - line);
        if (n->nsigs == DFT_NOTE_SIGS_MAX) {
            rc = dft_fail(err, DFT_ERR_TOO_LARGE, "note has more than %d signatures",
                          DFT_NOTE_SIGS_MAX);
            goto out;
        }
        if (line_len < EM_DASH_LEN || memcmp(line, em_dash, EM_DASH_LEN) != 0) {
            rc = dft_fail(err, DFT_ERR_INPUT, "note signature line %zu does not start with '— '",
                          n->nsigs + 1);
            goto out;
        }
        const char *name = line + EM_DASH_LEN;
        const char *sp = memchr(name, ' ', line_len - EM_DASH_LEN);
        if (sp == NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "note signature line %zu has no signature",
                          n->nsigs + 1);
            goto out;
        }
        size_t name_len = (size_t)(sp - name);
        const char *b64 = sp + 1;
        size_t b64_len = (size_t)(nl - b64);
        if (!name_valid(name, name_len)) {
            rc = dft_fail(err, DFT_ERR_INPUT, "note signature line %zu has a bad key name",
                          n->nsigs + 1);
            goto out;
        }
        size_t got = 0;
        if (b64_len == 0 ||
            dft_b64_decode(dec + dec_used, len - dec_used, &got, b64, b64_len) != DFT_OK ||
            got < 5) {
            rc = dft_fail(err, DFT_ERR_INPUT, "note signature line %zu has bad base64",
                          n->nsigs + 1);
            goto out;
        }
        struct dft_note_sig *s = &n->sigs[n->nsigs++];
        s->name = name;
        s->name_len = name_len;
        const unsigned char *d = dec + dec_used;
        s->key_id = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        s->sig = d + 4;
        s->sig_len = got - 4;
        s->line = line;
        s->line_len = line_len + 1;
        dec_used += got;
        pos += line_len + 1;
    }
    n->text = mem;
    n->text_len = sep + 1;
    n->mem = mem;
    /* The copy keeps signatures after the text; terminate the text view separately. */
    return DFT_OK;
out:
    free(mem);
    memset(n, 0, sizeof *n);
    return rc;
}

uint32_t
note_key_id(const char *name, unsigned char alg, const unsigned char pub[32])
{
    crypto_hash_sha256_state st;
    unsigned char h[32];
    unsigned char tail[2] = {'\n', alg};
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
    crypto_hash_sha256_update(&st, tail, 2);
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

enum dft_err
note_verifier_init(struct dft_note_verifier *v, const char *name, unsigned char alg,
                   const unsigned char pub[32], struct dft_error *err)
{
    size_t name_len = strlen(name);
    if (!name_valid(name, name_len)) {
        return dft_fail(err, DFT_ERR_INPUT, "bad key name");
    }
    if (alg != DFT_NOTE_ALG_ED25519 && alg != DFT_NOTE_ALG_COSIG_V1) {
        return dft_fail(err, DFT_ERR_INPUT, "unsupported key type 0x%02x", alg);
    }
    memset(v, 0, sizeof *v);
    memcpy(v->name, name, name_len);
    v->alg = alg;
    memcpy(v->pub, pub, 32);
    v->key_id = note_key_id(v->name, alg, pub);
    return DFT_OK;
}

enum dft_err
note_verifier_parse(struct dft_note_verifier *v, const char *vkey, size_t len,
                    struct dft_error *err)
{
    const char *p1 = memchr(vkey, '+', len);
    if (p1 == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "verifier key is not NAME+ID+KEY");
    }
    size_t name_len = (size_t)(p1 - vkey);
    size_t rest = len - name_len - 1;
    if (!name_valid(vkey, name_len)) {
        return dft_fail(err, DFT_ERR_INPUT, "verifier key has a bad name");
    }
    if (rest < 10 || p1[9] != '+') {
        return dft_fail(err, DFT_ERR_INPUT, "verifier key id is not 8 hex digits");
    }
    char hex[9];
    memcpy(hex, p1 + 1, 8);
    hex[8] = '\0';
    unsigned char idb[4];
    if (dft_hex_decode(idb, 4, hex) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "verifier key id is not 8 hex digits");
    }
    const char *b64 = p1 + 10;
    size_t b64_len = rest - 9;
    unsigned char key[34];
    size_t key_len = 0;
    if (dft_b64_decode(key, sizeof key, &key_len, b64, b64_len) != DFT_OK || key_len != 33) {
        return dft_fail(err, DFT_ERR_INPUT, "verifier key is not base64 of a type and 32 bytes");
    }
    char name[DFT_NOTE_NAME_MAX + 1];
    memcpy(name, vkey, name_len);
    name[name_len] = '\0';
    enum dft_err rc = note_verifier_init(v, name, key[0], key + 1, err);
    if (rc != DFT_OK) {
        return rc;
    }
    uint32_t id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    if (id != v->key_id) {
        memset(v, 0, sizeof *v);
        return dft_fail(err, DFT_ERR_INPUT, "verifier key id does not match its key");
    }
    return DFT_OK;
}

void
note_verifier_format(const struct dft_note_verifier *v, char out[DFT_NOTE_VKEY_MAX])
{
    unsigned char key[33];
    char b64[dft_b64_len(33)];
    key[0] = v->alg;
    memcpy(key + 1, v->pub, 32);
    dft_b64_encode(b64, key, sizeof key);
    size_t nl = strlen(v->name);
    memcpy(out, v->name, nl);
    out[nl] = '+';
    unsigned char idb[4] = {(unsigned char)(v->key_id >> 24), (unsigned char)(v->key_id >> 16),
                            (unsigned char)(v->key_id >> 8), (unsigned char)v->key_id};
    dft_hex_encode(out + nl + 1, idb, 4);
    out[nl + 9] = '+';
    memcpy(out + nl + 10, b64, 45); /* 44 characters and the NUL */
}

/* Append "— name base64(body)\n". */
static enum dft_err
add_line(struct dft_buf *out, const char *name, const unsigned char *body, size_t body_len,
         struct dft_error *err)
{
    char b64[dft_b64_len(4 + 8 + 64)];
    dft_b64_encode(b64, body, body_len);
    if (dft_buf_adds(out, em_dash) != DFT_OK || dft_buf_adds(out, name) != DFT_OK ||
        dft_buf_add(out, " ", 1) != DFT_OK || dft_buf_adds(out, b64) != DFT_OK ||
        dft_buf_add(out, "\n", 1) != DFT_OK) {
        return dft_fail(err, DFT_ERR_NOMEM, "cannot sign note: out of memory");
    }
    return DFT_OK;
}

static enum dft_err
sign_checks(const char *text, size_t text_len, const char *name, struct dft_error *err)
{
    enum dft_err rc = text_valid(text, text_len, "note text", err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (text[0] == '\n') {
        return dft_fail(err, DFT_ERR_INPUT, "note text starts with a blank line");
    }
    if (!name_valid(name, strlen(name))) {
        return dft_fail(err, DFT_ERR_INPUT, "bad key name");
    }
    return DFT_OK;
}

enum dft_err
note_sign_line(struct dft_buf *out, const char *text, size_t text_len, const char *name,
               const unsigned char sk[64], struct dft_error *err)
{
    enum dft_err rc = sign_checks(text, text_len, name, err);
    if (rc != DFT_OK) {
        return rc;
    }
    unsigned char body[4 + 64];
    dft_be_put(body, note_key_id(name, DFT_NOTE_ALG_ED25519, sk + 32), 4);
    crypto_sign_detached(body + 4, NULL, (const unsigned char *)text, text_len, sk);
    return add_line(out, name, body, sizeof body, err);
}

/* "cosignature/v1\ntime T\n" || text, the message a cosignature/v1 signs. */
static enum dft_err
cosig_message(struct dft_buf *m, const char *text, size_t text_len, uint64_t ts,
              struct dft_error *err)
{
    if (dft_buf_addf(m, "cosignature/v1\ntime %llu\n", (unsigned long long)ts) != DFT_OK ||
        dft_buf_add(m, text, text_len) != DFT_OK) {
        return dft_fail(err, DFT_ERR_NOMEM, "cosignature: out of memory");
    }
    return DFT_OK;
}

enum dft_err
note_cosign_line(struct dft_buf *out, const char *text, size_t text_len, const char *name,
                 const unsigned char sk[64], uint64_t timestamp, struct dft_error *err)
{
    enum dft_err rc = sign_checks(text, text_len, name, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (timestamp > (uint64_t)INT64_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "cosignature time is above 2^63 - 1");
    }
    struct dft_buf m;
    dft_buf_init(&m, DFT_NOTE_MAX_BYTES + 64, 0);
    if ((rc = cosig_message(&m, text, text_len, timestamp, err)) != DFT_OK) {
        dft_buf_release(&m);
        return rc;
    }
    unsigned char body[4 + 8 + 64];
    dft_be_put(body, note_key_id(name, DFT_NOTE_ALG_COSIG_V1, sk + 32), 4);
    dft_be_put(body + 4, (uint32_t)(timestamp >> 32), 4);
    dft_be_put(body + 8, (uint32_t)timestamp, 4);
    crypto_sign_detached(body + 12, NULL, m.data, m.len, sk);
    dft_buf_release(&m);
    return add_line(out, name, body, sizeof body, err);
}

static int
sig_matches(const struct dft_note_sig *s, const struct dft_note_verifier *v)
{
    return s->key_id == v->key_id && s->name_len == strlen(v->name) &&
           memcmp(s->name, v->name, s->name_len) == 0;
}

/* 1 when the signature verifies under v; *ts receives a cosignature's time. */
static int
sig_verifies(const struct dft_note *n, const struct dft_note_sig *s,
             const struct dft_note_verifier *v, uint64_t *ts)
{
    *ts = 0;
    if (v->alg == DFT_NOTE_ALG_ED25519) {
        return s->sig_len == 64 &&
               crypto_sign_verify_detached(s->sig, (const unsigned char *)n->text, n->text_len,
                                           v->pub) == 0;
    }
    if (v->alg != DFT_NOTE_ALG_COSIG_V1 || s->sig_len != 8 + 64) {
        return 0;
    }
    uint64_t t = 0;
    for (int i = 0; i < 8; i++) {
        t = t << 8 | s->sig[i];
    }
    if (t > (uint64_t)INT64_MAX) {
        return 0;
    }
    struct dft_buf m;
    dft_buf_init(&m, DFT_NOTE_MAX_BYTES + 64, 0);
    int ok = cosig_message(&m, n->text, n->text_len, t, NULL) == DFT_OK &&
             crypto_sign_verify_detached(s->sig + 8, m.data, m.len, v->pub) == 0;
    dft_buf_release(&m);
    *ts = t;
    return ok;
}

enum dft_err
note_verify(const struct dft_note *n, const struct dft_note_verifier *vs, size_t nvs,
            struct dft_note_check *checks, struct dft_error *err)
{
    for (size_t i = 0; i < nvs; i++) {
        for (size_t j = i + 1; j < nvs; j++) {
            if (vs[i].key_id == vs[j].key_id && strcmp(vs[i].name, vs[j].name) == 0) {
                return dft_fail(err, DFT_ERR_INPUT, "ambiguous key %s+%08x", vs[i].name,
                                (unsigned)vs[i].key_id);
            }
        }
        if (checks != NULL) {
            memset(&checks[i], 0, sizeof checks[i]);
        }
    }
    size_t verified = 0;
    for (size_t k = 0; k < n->nsigs; k++) {
        const struct dft_note_sig *s = &n->sigs[k];
        for (size_t i = 0; i < nvs; i++) {
            if (!sig_matches(s, &vs[i])) {
                continue;
            }
            uint64_t ts = 0;
            if (!sig_verifies(n, s, &vs[i], &ts)) {
                if (checks != NULL) {
                    memset(checks, 0, nvs * sizeof *checks);
                }
                return dft_fail(err, DFT_ERR_INTEGRITY, "invalid signature for key %s+%08x",
                                vs[i].name, (unsigned)vs[i].key_id);
            }
            if (checks != NULL && !checks[i].verified) {
                checks[i].verified = 1;
                checks[i].timestamp = ts;
                checks[i].sig_index = k;
            }
            verified++;
        }
    }
    if (verified == 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "note has no signature by a known key");
    }
    return DFT_OK;
}
