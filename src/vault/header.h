/*
 * header.h - the vault header file: KDF parameters, public keys and the wrapped secret keys.
 *
 * Internal to src/vault. Format in docs/vault-format.md ("Header"). The header is small, binary,
 * ends in a SHA-256 of everything before it (so any damaged byte is reported as damage, not as
 * a wrong passphrase) and is replaced atomically (temp file, fsync, rename, fsync directory).
 */
#ifndef DEFTER_VAULT_HEADER_H
#define DEFTER_VAULT_HEADER_H

#include "defter/crypto.h"

#define DFT_HEADER_MAGIC         "DFTVAULT"
#define DFT_HEADER_VERSION       1
#define DFT_HEADER_SALT_BYTES    16
#define DFT_HEADER_NONCE_BYTES   24
#define DFT_HEADER_WRAPPED_BYTES (DFT_KEY_BYTES + DFT_SIGN_SK_BYTES + DFT_BOX_SK_BYTES + 16)
#define DFT_HEADER_STATE_MAX     4096
#define DFT_HEADER_MAX_BYTES     (298 + DFT_HEADER_STATE_MAX + 32) /* serialised, largest */

struct dft_header {
    uint8_t kdf_level; /* enum dft_kdf_level */
    uint64_t opslimit; /* Argon2id parameters */
    uint64_t memlimit;
    unsigned char salt[DFT_HEADER_SALT_BYTES];
    unsigned char vault_id[DFT_VAULT_ID_BYTES];
    unsigned char sign_pk[DFT_SIGN_PK_BYTES];
    unsigned char box_pk[DFT_BOX_PK_BYTES];
    unsigned char nonce[DFT_HEADER_NONCE_BYTES];
    unsigned char wrapped[DFT_HEADER_WRAPPED_BYTES]; /* master ‖ sign_sk ‖ box_sk, sealed */
    uint32_t state_len;                              /* sealed log state (0: none yet) */
    unsigned char state[DFT_HEADER_STATE_MAX];       /* nonce ‖ XChaCha20-Poly1305 ciphertext */
};

/* Generate fresh keys into k and a header wrapping them under pass. */
enum dft_err header_create(struct dft_header *h, struct dft_keys *k, const char *pass,
                               size_t pass_len, enum dft_kdf_level level,
                               struct dft_error *err) DFT_MUST_CHECK;

/* Rewrap k under a new passphrase into h (fresh salt and nonce). */
enum dft_err header_wrap(struct dft_header *h, const struct dft_keys *k, const char *pass,
                             size_t pass_len, enum dft_kdf_level level,
                             struct dft_error *err) DFT_MUST_CHECK;

/* Unwrap the keys; DFT_ERR_PASSPHRASE when the passphrase is wrong. */
enum dft_err header_unlock(const struct dft_header *h, struct dft_keys *k, const char *pass,
                               size_t pass_len, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Serialise h into out (cap >= DFT_HEADER_MAX_BYTES is always enough); *len gets the size.
 * DFT_ERR_INTERNAL when cap is too small or state_len is out of range.
 */
enum dft_err header_encode(const struct dft_header *h, unsigned char *out, size_t cap,
                               size_t *len, struct dft_error *err) DFT_MUST_CHECK;

/* Parse (strict: any damaged byte gives DFT_ERR_INTEGRITY) / read / atomically write. */
enum dft_err header_parse(struct dft_header *h, const unsigned char *p, size_t n,
                              struct dft_error *err) DFT_MUST_CHECK;
enum dft_err header_read(struct dft_header *h, const char *path,
                             struct dft_error *err) DFT_MUST_CHECK;
enum dft_err header_write(const struct dft_header *h, const char *path,
                              struct dft_error *err) DFT_MUST_CHECK;

#endif
