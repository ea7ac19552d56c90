/*
 * header.c - create, wrap, unwrap, read and atomically write the vault header.
 *
 * Passphrase -> Argon2id (crypto_pwhash) -> key-encryption key -> XChaCha20-Poly1305 over the
 * secret keys, with every public header field as associated data. Never writes secrets in
 * clear, never leaves a half-written header: the new file is complete and fsynced before it
 * replaces the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "vault/header.h"
#include "vault/fsutil.h"

/* Byte offsets of the fixed part; the associated data is everything before the nonce. */
#define OFF_VERSION  8
#define OFF_KDF      10
#define OFF_OPS      12
#define OFF_MEM      20
#define OFF_SALT     28
#define OFF_ID       44
#define OFF_SIGN_PK  60
#define OFF_BOX_PK   92
#define OFF_NONCE    124
#define OFF_WLEN     148
#define OFF_WRAPPED  150
#define OFF_STATELEN (OFF_WRAPPED + DFT_HEADER_WRAPPED_BYTES)
#define OFF_STATE    (OFF_STATELEN + 4)
#define HEADER_MAX   DFT_HEADER_MAX_BYTES

_Static_assert(DFT_HEADER_MAX_BYTES == OFF_STATE + DFT_HEADER_STATE_MAX + DFT_HASH_BYTES,
               "DFT_HEADER_MAX_BYTES matches the layout");

/* The associated data: magic, version, KDF parameters, salt, vault id and public keys. */
static void
header_ad(const struct dft_header *h, unsigned char ad[OFF_NONCE])
{
    memcpy(ad, DFT_HEADER_MAGIC, 8);
    dft_be_put(ad + OFF_VERSION, DFT_HEADER_VERSION, 2);
    ad[OFF_KDF] = 1; /* Argon2id v1.3 */
    ad[OFF_KDF + 1] = h->kdf_level;
    dft_be_put(ad + OFF_OPS, h->opslimit, 8);
    dft_be_put(ad + OFF_MEM, h->memlimit, 8);
    memcpy(ad + OFF_SALT, h->salt, DFT_HEADER_SALT_BYTES);
    memcpy(ad + OFF_ID, h->vault_id, DFT_VAULT_ID_BYTES);
    memcpy(ad + OFF_SIGN_PK, h->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(ad + OFF_BOX_PK, h->box_pk, DFT_BOX_PK_BYTES);
}

static enum dft_err
derive_kek(unsigned char *kek, const struct dft_header *h, const char *pass, size_t pass_len,
           struct dft_error *err)
{
    if (crypto_pwhash(kek, DFT_KEY_BYTES, pass, pass_len, h->salt, h->opslimit, (size_t)h->memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return dft_fail(err, DFT_ERR_NOMEM,
                        "cannot derive the key from the passphrase: "
                        "not enough memory for the key derivation");
    }
    return DFT_OK;
}

enum dft_err
header_wrap(struct dft_header *h, const struct dft_keys *k, const char *pass, size_t pass_len,
            enum dft_kdf_level level, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char ad[OFF_NONCE];
    unsigned char *kek = sodium_malloc(DFT_KEY_BYTES);
    unsigned char *plain = sodium_malloc(DFT_KEY_BYTES + DFT_SIGN_SK_BYTES + DFT_BOX_SK_BYTES);
    if (kek == NULL || plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    struct dft_header next = *h;
    next.kdf_level = (uint8_t)level;
    dft_kdf_limits(level, &next.opslimit, &next.memlimit);
    randombytes_buf(next.salt, sizeof next.salt);
    randombytes_buf(next.nonce, sizeof next.nonce);
    rc = derive_kek(kek, &next, pass, pass_len, err);
    if (rc != DFT_OK) {
        goto out;
    }
    memcpy(plain, k->master, DFT_KEY_BYTES);
    memcpy(plain + DFT_KEY_BYTES, k->sign_sk, DFT_SIGN_SK_BYTES);
    memcpy(plain + DFT_KEY_BYTES + DFT_SIGN_SK_BYTES, k->box_sk, DFT_BOX_SK_BYTES);
    header_ad(&next, ad);
    crypto_aead_xchacha20poly1305_ietf_encrypt(next.wrapped, NULL, plain,
                                               DFT_KEY_BYTES + DFT_SIGN_SK_BYTES + DFT_BOX_SK_BYTES,
                                               ad, sizeof ad, NULL, next.nonce, kek);
    *h = next;
out:
    sodium_free(kek);
    sodium_free(plain);
    return rc;
}

enum dft_err
header_create(struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
              enum dft_kdf_level level, struct dft_error *err)
{
    memset(h, 0, sizeof *h);
    randombytes_buf(k->master, sizeof k->master);
    crypto_sign_keypair(k->sign_pk, k->sign_sk);
    crypto_box_keypair(k->box_pk, k->box_sk);
    randombytes_buf(k->vault_id, sizeof k->vault_id);
    dft_keys_derive(k);
    memcpy(h->vault_id, k->vault_id, DFT_VAULT_ID_BYTES);
    memcpy(h->sign_pk, k->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(h->box_pk, k->box_pk, DFT_BOX_PK_BYTES);
    return header_wrap(h, k, pass, pass_len, level, err);
}

enum dft_err
header_unlock(const struct dft_header *h, struct dft_keys *k, const char *pass, size_t pass_len,
              struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char ad[OFF_NONCE];
    unsigned char *kek = sodium_malloc(DFT_KEY_BYTES);
    unsigned char *plain = sodium_malloc(DFT_KEY_BYTES + DFT_SIGN_SK_BYTES + DFT_BOX_SK_BYTES);
    unsigned char pk[DFT_SIGN_PK_BYTES];
    unsigned char bpk[DFT_BOX_PK_BYTES];
    if (kek == NULL || plain == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = derive_kek(kek, h, pass, pass_len, err);
    if (rc != DFT_OK) {
        goto out;
    }
    header_ad(h, ad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL, h->wrapped,
                                                   DFT_HEADER_WRAPPED_BYTES, ad, sizeof ad,
                                                   h->nonce, kek) != 0) {
        /* A wrong passphrase and a damaged wrap look alike: say both, never only the first. */
        rc = dft_fail(err, DFT_ERR_PASSPHRASE, "wrong passphrase or damaged header");
        goto out;
    }
    memcpy(k->master, plain, DFT_KEY_BYTES);
    memcpy(k->sign_sk, plain + DFT_KEY_BYTES, DFT_SIGN_SK_BYTES);
    memcpy(k->box_sk, plain + DFT_KEY_BYTES + DFT_SIGN_SK_BYTES, DFT_BOX_SK_BYTES);
    /* The public keys in the header are authenticated as AD; check they belong to the secrets. */
    crypto_sign_ed25519_sk_to_pk(pk, k->sign_sk);
    crypto_scalarmult_base(bpk, k->box_sk);
    if (sodium_memcmp(pk, h->sign_pk, sizeof pk) != 0 ||
        sodium_memcmp(bpk, h->box_pk, sizeof bpk) != 0) {
        sodium_memzero(k, sizeof *k);
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "vault header keys do not match");
        goto out;
    }
    memcpy(k->sign_pk, h->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(k->box_pk, h->box_pk, DFT_BOX_PK_BYTES);
    memcpy(k->vault_id, h->vault_id, DFT_VAULT_ID_BYTES);
    dft_keys_derive(k);
out:
    sodium_free(kek);
    sodium_free(plain);
    return rc;
}

enum dft_err
header_parse(struct dft_header *h, const unsigned char *p, size_t n, struct dft_error *err)
{
    const char *what = "vault header is damaged or tampered";
    if (n < OFF_STATE + DFT_HASH_BYTES || memcmp(p, DFT_HEADER_MAGIC, 8) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (not a defter vault header)", what);
    }
    unsigned char sum[DFT_HASH_BYTES];
    dft_sha256(sum, p, n - DFT_HASH_BYTES);
    if (sodium_memcmp(sum, p + n - DFT_HASH_BYTES, DFT_HASH_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (checksum mismatch)", what);
    }
    if (dft_be_get(p + OFF_VERSION, 2) != DFT_HEADER_VERSION) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "unsupported vault header version %u",
                        (unsigned)dft_be_get(p + OFF_VERSION, 2));
    }
    struct dft_header t;
    memset(&t, 0, sizeof t);
    t.kdf_level = p[OFF_KDF + 1];
    t.opslimit = dft_be_get(p + OFF_OPS, 8);
    t.memlimit = dft_be_get(p + OFF_MEM, 8);
    if (p[OFF_KDF] != 1 || t.kdf_level < 1 || t.kdf_level > 3 ||
        t.opslimit < crypto_pwhash_OPSLIMIT_MIN || t.memlimit < crypto_pwhash_MEMLIMIT_MIN ||
        dft_be_get(p + OFF_WLEN, 2) != DFT_HEADER_WRAPPED_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (bad parameters)", what);
    }
    /*
     * The cost is read before anything authenticates it (the checksum is unkeyed): a forged
     * header must not make the unlock take hours or gigabytes. Nothing above sensitive.
     */
    if (t.opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        t.memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "%s (key derivation cost above the sensitive level)", what);
    }
    memcpy(t.salt, p + OFF_SALT, sizeof t.salt);
    memcpy(t.vault_id, p + OFF_ID, sizeof t.vault_id);
    memcpy(t.sign_pk, p + OFF_SIGN_PK, sizeof t.sign_pk);
    memcpy(t.box_pk, p + OFF_BOX_PK, sizeof t.box_pk);
    memcpy(t.nonce, p + OFF_NONCE, sizeof t.nonce);
    memcpy(t.wrapped, p + OFF_WRAPPED, sizeof t.wrapped);
    t.state_len = (uint32_t)dft_be_get(p + OFF_STATELEN, 4);
    if (t.state_len > DFT_HEADER_STATE_MAX ||
        n != (size_t)OFF_STATE + t.state_len + DFT_HASH_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "%s (bad length)", what);
    }
    memcpy(t.state, p + OFF_STATE, t.state_len);
    *h = t;
    return DFT_OK;
}

enum dft_err
header_read(struct dft_header *h, const char *path, struct dft_error *err)
{
    unsigned char buf[HEADER_MAX + 1];
    size_t n = 0;
    enum dft_err rc = dft_read_small_file(path, buf, sizeof buf, &n, err);
    if (rc == DFT_ERR_NOT_FOUND) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no vault at '%s'", path);
    }
    if (rc == DFT_ERR_TOO_LARGE) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "vault header is damaged or tampered (too long)");
    }
    if (rc != DFT_OK) {
        return rc;
    }
    return header_parse(h, buf, n, err);
}

enum dft_err
header_encode(const struct dft_header *h, unsigned char *out, size_t cap, size_t *len,
              struct dft_error *err)
{
    if (h->state_len > DFT_HEADER_STATE_MAX) {
        return dft_fail(err, DFT_ERR_INTERNAL, "vault header state too long");
    }
    size_t n = OFF_STATE + h->state_len;
    if (cap < n + DFT_HASH_BYTES) {
        return dft_fail(err, DFT_ERR_INTERNAL, "vault header buffer too small");
    }
    header_ad(h, out);
    memcpy(out + OFF_NONCE, h->nonce, DFT_HEADER_NONCE_BYTES);
    dft_be_put(out + OFF_WLEN, DFT_HEADER_WRAPPED_BYTES, 2);
    memcpy(out + OFF_WRAPPED, h->wrapped, DFT_HEADER_WRAPPED_BYTES);
    dft_be_put(out + OFF_STATELEN, h->state_len, 4);
    memcpy(out + OFF_STATE, h->state, h->state_len);
    dft_sha256(out + n, out, n);
    *len = n + DFT_HASH_BYTES;
    return DFT_OK;
}

enum dft_err
header_write(const struct dft_header *h, const char *path, struct dft_error *err)
{
    unsigned char buf[HEADER_MAX];
    size_t n = 0;
    enum dft_err rc = header_encode(h, buf, sizeof buf, &n, err);
    if (rc != DFT_OK) {
        return rc;
    }
    return dft_write_file_atomic(path, buf, n, err);
}
