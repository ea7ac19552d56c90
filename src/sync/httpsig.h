/*
 * httpsig.h - RFC 9421 HTTP Message Signatures as team sync uses them (docs/sync-protocol.md,
 * "Requests"): Ed25519 (alg "ed25519") over the components "@method" "@target-uri"
 * "content-digest" with the parameters created, nonce, keyid and alg, and an RFC 9530
 * Content-Digest sha-256 of the body. Used by the client (sign) and the server (verify).
 *
 * Internal to libdefter. Parsing is strict and bounded: every header is at most
 * HTTPSIG_HEADER_MAX bytes and anything else than the form we write is refused.
 */
#ifndef DEFTER_SYNC_HTTPSIG_H
#define DEFTER_SYNC_HTTPSIG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "defter/core.h"

#define HTTPSIG_HEADER_MAX 512 /* bytes of Signature-Input, Signature or Content-Digest */
#define HTTPSIG_SKEW       300 /* seconds a created time may differ from the server's clock */
#define HTTPSIG_NONCE_TTL  600 /* seconds a nonce is remembered */
#define HTTPSIG_NONCE_LEN  22  /* base64url (no padding) of 16 random bytes */

/* Sign msg with the device key (the vault's dft_vault_sign, or a raw key in tests). */
typedef enum dft_err (*httpsig_sign_fn)(void *ctx, const unsigned char *msg, size_t n,
                                        unsigned char sig[64], struct dft_error *err);

/* The three request headers a signed request carries (NUL-terminated values). */
struct httpsig_headers {
    char digest[HTTPSIG_HEADER_MAX];    /* Content-Digest */
    char input[HTTPSIG_HEADER_MAX];     /* Signature-Input */
    char signature[HTTPSIG_HEADER_MAX]; /* Signature */
};

/* "sha-256=:BASE64:" of body into out (HTTPSIG_HEADER_MAX). */
void httpsig_digest(char *out, const unsigned char *body, size_t n);

/*
 * Sign a request: fills h. created is POSIX seconds; nonce NULL draws 16 random bytes. The
 * signature base is built exactly as RFC 9421 section 2.5 says (see httpsig_base).
 */
enum dft_err httpsig_sign(struct httpsig_headers *h, const char *method, const char *target_uri,
                          const unsigned char *body, size_t n, const unsigned char pub[32],
                          int64_t created, const unsigned char *nonce16, httpsig_sign_fn sign,
                          void *ctx, struct dft_error *err) DFT_MUST_CHECK;

/* What a verified signature said. */
struct httpsig_params {
    unsigned char keyid[32];           /* the signer's Ed25519 public key */
    int64_t created;                   /* POSIX seconds */
    char nonce[HTTPSIG_NONCE_LEN + 1]; /* as sent */
};

/*
 * Parse Signature-Input and Signature, rebuild the signature base from method, target_uri and
 * the Content-Digest header as received, and verify the Ed25519 signature under keyid.
 * DFT_ERR_INPUT: a header missing, malformed, other components or parameters, another alg;
 * DFT_ERR_CRYPTO: the signature does not verify. Time, nonce, key standing and the body's
 * digest are the caller's checks (httpsig_check_digest, httpsig_nonces_*).
 */
enum dft_err httpsig_verify(struct httpsig_params *p, const char *method, const char *target_uri,
                            const char *content_digest, const char *sig_input,
                            const char *signature, struct dft_error *err) DFT_MUST_CHECK;

/* Parse only (no signature check); for the fuzzer and for logging the key id. */
enum dft_err httpsig_parse(struct httpsig_params *p, const char *sig_input, const char *signature,
                           unsigned char sig[64], const char **params, size_t *params_len,
                           struct dft_error *err) DFT_MUST_CHECK;

/* DFT_OK when header is exactly the sha-256 Content-Digest of body, else DFT_ERR_INPUT. */
enum dft_err httpsig_check_digest(const char *header, const unsigned char *body, size_t n,
                                  struct dft_error *err) DFT_MUST_CHECK;

/*
 * The signature base (RFC 9421 section 2.5) for the three components and the serialized
 * signature parameters params (the inner list and its parameters). Appends to out.
 */
enum dft_err httpsig_base(struct dft_buf *out, const char *method, const char *target_uri,
                          const char *content_digest, const char *params, size_t params_len,
                          struct dft_error *err) DFT_MUST_CHECK;

/* Nonces seen in the last HTTPSIG_NONCE_TTL seconds, per key (thread-safe). */
struct httpsig_nonces;
struct httpsig_nonces *httpsig_nonces_new(void);
void httpsig_nonces_free(struct httpsig_nonces *ns);
/* 0: new (now remembered); 1: replayed; -1: out of memory (treat as refused). */
int httpsig_nonces_check(struct httpsig_nonces *ns, const unsigned char keyid[32],
                         const char *nonce, int64_t now);

#endif
