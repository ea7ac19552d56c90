/*
 * httpsig.c - RFC 9421 request signatures (Ed25519) and RFC 9530 Content-Digest for team sync.
 *
 * Accepted form (and the only one written):
 *   Content-Digest: sha-256=:BASE64:
 *   Signature-Input: LABEL=("@method" "@target-uri" "content-digest");created=N;
 *                    nonce="B64URL";keyid="BASE64";alg="ed25519"     (one line, any order of
 *                    the four parameters, each exactly once)
 *   Signature: LABEL=:BASE64(64 bytes):
 * It must never accept a signature over other components, another algorithm or a base it did
 * not rebuild itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "sync/httpsig.h"

static const char components[] = "(\"@method\" \"@target-uri\" \"content-digest\")";

void
httpsig_digest(char *out, const unsigned char *body, size_t n)
{
    unsigned char h[32];
    char b64[dft_b64_len(32)];
    crypto_sha256_once(h, n > 0 ? (const void *)body : (const void *)"", n);
    dft_b64_encode(b64, h, sizeof h);
    snprintf(out, HTTPSIG_HEADER_MAX, "sha-256=:%s:", b64);
}

enum dft_err
httpsig_check_digest(const char *header, const unsigned char *body, size_t n, struct dft_error *err)
{
    char want[HTTPSIG_HEADER_MAX];
    if (header == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "request has no Content-Digest");
    }
    httpsig_digest(want, body, n);
    if (strlen(header) != strlen(want) || sodium_memcmp(header, want, strlen(want)) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "body does not match its Content-Digest");
    }
    return DFT_OK;
}

static int
has_ctl(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            return 1;
        }
    }
    return 0;
}

enum dft_err
httpsig_base(struct dft_buf *out, const char *method, const char *target_uri,
             const char *content_digest, const char *params, size_t params_len,
             struct dft_error *err)
{
    if (has_ctl(method) || has_ctl(target_uri) || has_ctl(content_digest)) {
        return dft_fail(err, DFT_ERR_INPUT, "signed component holds a control character");
    }
    if (dft_buf_addf(out, "\"@method\": %s\n\"@target-uri\": %s\n\"content-digest\": %s\n", method,
                     target_uri, content_digest) != DFT_OK ||
        dft_buf_adds(out, "\"@signature-params\": ") != DFT_OK ||
        dft_buf_add(out, params, params_len) != DFT_OK) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "signature base too large");
    }
    return DFT_OK;
}

/* base64url without padding of 16 bytes (22 characters) */
static void
b64url16(char out[HTTPSIG_NONCE_LEN + 1], const unsigned char in[16])
{
    sodium_bin2base64(out, HTTPSIG_NONCE_LEN + 1, in, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

enum dft_err
httpsig_sign(struct httpsig_headers *h, const char *method, const char *target_uri,
             const unsigned char *body, size_t n, const unsigned char pub[32], int64_t created,
             const unsigned char *nonce16, httpsig_sign_fn sign, void *ctx, struct dft_error *err)
{
    unsigned char nonce[16], sig[64];
    char nonce_s[HTTPSIG_NONCE_LEN + 1], key_s[dft_b64_len(32)], sig_s[dft_b64_len(64)];
    struct dft_buf base;
    enum dft_err rc = DFT_OK;
    if (nonce16 != NULL) {
        memcpy(nonce, nonce16, sizeof nonce);
    } else {
        randombytes_buf(nonce, sizeof nonce);
    }
    b64url16(nonce_s, nonce);
    dft_b64_encode(key_s, pub, 32);
    httpsig_digest(h->digest, body, n);
    int w = snprintf(h->input, sizeof h->input,
                     "sig1=%s;created=%lld;nonce=\"%s\";keyid=\"%s\";alg=\"ed25519\"", components,
                     (long long)created, nonce_s, key_s);
    if (w < 0 || (size_t)w >= sizeof h->input) {
        return dft_fail(err, DFT_ERR_INTERNAL, "signature input too long");
    }
    dft_buf_init(&base, 16384, 0);
    const char *params = h->input + 5;
    if ((rc = httpsig_base(&base, method, target_uri, h->digest, params, strlen(params), err)) ==
            DFT_OK &&
        (rc = sign(ctx, base.data, base.len, sig, err)) == DFT_OK) {
        dft_b64_encode(sig_s, sig, sizeof sig);
        snprintf(h->signature, sizeof h->signature, "sig1=:%s:", sig_s);
    }
    dft_buf_release(&base);
    return rc;
}

/* An sf-string parameter value: "..." of printable ASCII without '"' or '\'. */
static int
take_string(const char **p, const char *end, char *out, size_t max)
{
    const char *s = *p;
    if (s >= end || *s != '"') {
        return -1;
    }
    s++;
    size_t n = 0;
    while (s < end && *s != '"') {
        if (*s == '\\' || n + 1 >= max) {
            return -1;
        }
        out[n++] = *s++;
    }
    if (s >= end) {
        return -1;
    }
    out[n] = '\0';
    *p = s + 1;
    return 0;
}

enum dft_err
httpsig_parse(struct httpsig_params *p, const char *sig_input, const char *signature,
              unsigned char sig[64], const char **params, size_t *params_len, struct dft_error *err)
{
    char label[64], buf[128];
    int have_created = 0, have_nonce = 0, have_key = 0, have_alg = 0;
    memset(p, 0, sizeof *p);
    if (sig_input == NULL || signature == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "request is not signed");
    }
    size_t in_len = strlen(sig_input);
    if (in_len >= HTTPSIG_HEADER_MAX || strlen(signature) >= HTTPSIG_HEADER_MAX ||
        has_ctl(sig_input) || has_ctl(signature)) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed signature headers");
    }
    /* label: lower-case key as RFC 8941 allows (a-z, 0-9, _ - . *), first a letter */
    const char *eq = strchr(sig_input, '=');
    size_t ll = eq != NULL ? (size_t)(eq - sig_input) : 0;
    if (ll == 0 || ll >= sizeof label || sig_input[0] < 'a' || sig_input[0] > 'z') {
        return dft_fail(err, DFT_ERR_INPUT, "malformed Signature-Input");
    }
    for (size_t i = 0; i < ll; i++) {
        char c = sig_input[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '*')) {
            return dft_fail(err, DFT_ERR_INPUT, "malformed Signature-Input");
        }
    }
    memcpy(label, sig_input, ll);
    label[ll] = '\0';
    const char *s = eq + 1, *end = sig_input + in_len;
    *params = s;
    *params_len = (size_t)(end - s);
    size_t cl = strlen(components);
    if ((size_t)(end - s) < cl || memcmp(s, components, cl) != 0) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "signature must cover \"@method\" \"@target-uri\" \"content-digest\"");
    }
    s += cl;
    while (s < end) {
        if (*s != ';') {
            return dft_fail(err, DFT_ERR_INPUT, "malformed signature parameters");
        }
        s++;
        const char *name = s;
        while (s < end && *s != '=') {
            s++;
        }
        size_t nl = (size_t)(s - name);
        if (s >= end) {
            return dft_fail(err, DFT_ERR_INPUT, "malformed signature parameters");
        }
        s++;
        if (nl == 7 && memcmp(name, "created", 7) == 0 && !have_created) {
            int64_t v = 0;
            int digits = 0;
            while (s < end && *s >= '0' && *s <= '9' && digits < 15) {
                v = v * 10 + (*s - '0');
                s++;
                digits++;
            }
            if (digits == 0 || (s < end && *s != ';')) {
                return dft_fail(err, DFT_ERR_INPUT, "malformed created parameter");
            }
            p->created = v;
            have_created = 1;
        } else if (nl == 5 && memcmp(name, "nonce", 5) == 0 && !have_nonce) {
            if (take_string(&s, end, buf, sizeof buf) != 0 || strlen(buf) != HTTPSIG_NONCE_LEN) {
                return dft_fail(err, DFT_ERR_INPUT, "malformed nonce parameter");
            }
            memcpy(p->nonce, buf, HTTPSIG_NONCE_LEN + 1);
            have_nonce = 1;
        } else if (nl == 5 && memcmp(name, "keyid", 5) == 0 && !have_key) {
            size_t kn = 0;
            if (take_string(&s, end, buf, sizeof buf) != 0 || strlen(buf) != 44 ||
                dft_b64_decode(p->keyid, sizeof p->keyid, &kn, buf, 44) != DFT_OK || kn != 32) {
                return dft_fail(err, DFT_ERR_INPUT, "malformed keyid parameter");
            }
            have_key = 1;
        } else if (nl == 3 && memcmp(name, "alg", 3) == 0 && !have_alg) {
            if (take_string(&s, end, buf, sizeof buf) != 0 || strcmp(buf, "ed25519") != 0) {
                return dft_fail(err, DFT_ERR_INPUT, "signature algorithm must be ed25519");
            }
            have_alg = 1;
        } else {
            return dft_fail(err, DFT_ERR_INPUT, "unknown or repeated signature parameter");
        }
    }
    if (!have_created || !have_nonce || !have_key || !have_alg) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "signature needs created, nonce, keyid and alg parameters");
    }
    /* Signature: LABEL=:BASE64: */
    size_t sl = strlen(signature);
    size_t sn = 0;
    if (sl != ll + 2 + 88 + 1 || memcmp(signature, label, ll) != 0 || signature[ll] != '=' ||
        signature[ll + 1] != ':' || signature[sl - 1] != ':' ||
        dft_b64_decode(sig, 64, &sn, signature + ll + 2, 88) != DFT_OK || sn != 64) {
        return dft_fail(err, DFT_ERR_INPUT, "malformed Signature header");
    }
    return DFT_OK;
}

enum dft_err
httpsig_verify(struct httpsig_params *p, const char *method, const char *target_uri,
               const char *content_digest, const char *sig_input, const char *signature,
               struct dft_error *err)
{
    unsigned char sig[64];
    const char *params = NULL;
    size_t params_len = 0;
    struct dft_buf base;
    enum dft_err rc = httpsig_parse(p, sig_input, signature, sig, &params, &params_len, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (content_digest == NULL || strlen(content_digest) >= HTTPSIG_HEADER_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "request has no Content-Digest");
    }
    dft_buf_init(&base, 16384, 0);
    rc = httpsig_base(&base, method, target_uri, content_digest, params, params_len, err);
    if (rc == DFT_OK && crypto_sign_verify_detached(sig, base.data, base.len, p->keyid) != 0) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "request signature does not verify");
    }
    dft_buf_release(&base);
    return rc;
}

/* ---- nonces ---- */

struct nonce_slot {
    unsigned char id[16]; /* SHA-256(keyid || nonce)[:16]; all zero when free */
    int64_t seen;
};

struct httpsig_nonces {
    pthread_mutex_t mu;
    struct nonce_slot *slots;
    size_t cap, used;
};

#define NONCES_MAX ((size_t)1 << 24)

struct httpsig_nonces *
httpsig_nonces_new(void)
{
    struct httpsig_nonces *ns = calloc(1, sizeof *ns);
    if (ns == NULL) {
        return NULL;
    }
    ns->cap = 4096;
    ns->slots = calloc(ns->cap, sizeof *ns->slots);
    if (ns->slots == NULL) {
        free(ns);
        return NULL;
    }
    pthread_mutex_init(&ns->mu, NULL);
    return ns;
}

void
httpsig_nonces_free(struct httpsig_nonces *ns)
{
    if (ns == NULL) {
        return;
    }
    pthread_mutex_destroy(&ns->mu);
    free(ns->slots);
    free(ns);
}

static const unsigned char zero16[16];

static size_t
slot_of(const unsigned char id[16], size_t cap)
{
    uint64_t h = dft_be_get(id, 8);
    return (size_t)(h & (cap - 1));
}

static void
put_slot(struct nonce_slot *slots, size_t cap, const unsigned char id[16], int64_t seen)
{
    size_t i = slot_of(id, cap);
    while (memcmp(slots[i].id, zero16, 16) != 0) {
        i = (i + 1) & (cap - 1);
    }
    memcpy(slots[i].id, id, 16);
    slots[i].seen = seen;
}

/* Rebuild without expired entries, doubling when still half full. */
static int
rebuild(struct httpsig_nonces *ns, int64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < ns->cap; i++) {
        if (memcmp(ns->slots[i].id, zero16, 16) != 0 &&
            ns->slots[i].seen > now - HTTPSIG_NONCE_TTL) {
            live++;
        }
    }
    size_t cap = ns->cap;
    while (live * 4 >= cap) {
        cap *= 2;
    }
    if (cap > NONCES_MAX) {
        return -1;
    }
    struct nonce_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL) {
        return -1;
    }
    for (size_t i = 0; i < ns->cap; i++) {
        if (memcmp(ns->slots[i].id, zero16, 16) != 0 &&
            ns->slots[i].seen > now - HTTPSIG_NONCE_TTL) {
            put_slot(slots, cap, ns->slots[i].id, ns->slots[i].seen);
        }
    }
    free(ns->slots);
    ns->slots = slots;
    ns->cap = cap;
    ns->used = live;
    return 0;
}

int
httpsig_nonces_check(struct httpsig_nonces *ns, const unsigned char keyid[32], const char *nonce,
                     int64_t now)
{
    unsigned char h[32], id[16];
    unsigned char in[32 + HTTPSIG_NONCE_LEN];
    size_t nl = strlen(nonce);
    if (nl != HTTPSIG_NONCE_LEN) {
        return 1;
    }
    memcpy(in, keyid, 32);
    memcpy(in + 32, nonce, nl);
    crypto_sha256_once(h, in, sizeof in);
    memcpy(id, h, 16);
    if (memcmp(id, zero16, 16) == 0) {
        id[0] = 1;
    }
    int rc = 0;
    pthread_mutex_lock(&ns->mu);
    size_t i = slot_of(id, ns->cap);
    while (memcmp(ns->slots[i].id, zero16, 16) != 0) {
        if (memcmp(ns->slots[i].id, id, 16) == 0) {
            /* an expired slot may be reused: the created window already refuses it */
            rc = ns->slots[i].seen > now - HTTPSIG_NONCE_TTL ? 1 : 0;
            if (rc == 0) {
                ns->slots[i].seen = now;
            }
            goto out;
        }
        i = (i + 1) & (ns->cap - 1);
    }
    if ((ns->used + 1) * 2 > ns->cap && rebuild(ns, now) != 0) {
        rc = -1;
        goto out;
    }
    put_slot(ns->slots, ns->cap, id, now);
    ns->used++;
out:
    pthread_mutex_unlock(&ns->mu);
    return rc;
}
