/*
 * crypto.h - keys, KDF, hashing and the vault's derived subkeys.
 *
 * Uses only vetted constructions: Argon2id (crypto_pwhash), Ed25519, X25519, BLAKE2b-based
 * crypto_kdf for subkeys, XChaCha20-Poly1305 and AES-256-GCM. Secrets live in sodium_malloc
 * memory and are wiped on release. Never logs key material.
 */
#ifndef DEFTER_CRYPTO_H
#define DEFTER_CRYPTO_H

#include "defter/core.h"

#define DFT_KEY_BYTES      32
#define DFT_HASH_BYTES     32
#define DFT_SIGN_PK_BYTES  32
#define DFT_SIGN_SK_BYTES  64
#define DFT_SIG_BYTES      64
#define DFT_BOX_PK_BYTES   32
#define DFT_BOX_SK_BYTES   32
#define DFT_VAULT_ID_BYTES 16

enum dft_kdf_level { DFT_KDF_INTERACTIVE = 1, DFT_KDF_MODERATE = 2, DFT_KDF_SENSITIVE = 3 };

/*
 * The unlocked key set of a vault. Allocated with sodium_malloc by dft_keys_new (guard pages,
 * mlock, excluded from core dumps); dft_keys_free wipes it.
 */
struct dft_keys {
    unsigned char master[DFT_KEY_BYTES];        /* random; the root of every subkey */
    unsigned char sign_sk[DFT_SIGN_SK_BYTES];   /* Ed25519 identity (operations, checkpoints) */
    unsigned char sign_pk[DFT_SIGN_PK_BYTES];   /* public half */
    unsigned char box_sk[DFT_BOX_SK_BYTES];     /* X25519, for sealed collection keys (sync) */
    unsigned char box_pk[DFT_BOX_PK_BYTES];     /* public half */
    unsigned char vault_id[DFT_VAULT_ID_BYTES]; /* random, public; binds pages to this vault */
    /* Subkeys derived from master with crypto_kdf_derive_from_key, context "defter01": */
    unsigned char page_key[DFT_KEY_BYTES];   /* id 1: database pages (AES-256-GCM) */
    unsigned char seal_key[DFT_KEY_BYTES];   /* id 2: envelopes (XChaCha20-Poly1305) */
    unsigned char dedup_key[DFT_KEY_BYTES];  /* id 3: HMAC-SHA-256 of evidence content */
    unsigned char object_key[DFT_KEY_BYTES]; /* id 4: wraps per-file evidence keys */
    unsigned char state_key[DFT_KEY_BYTES];  /* id 5: seals the header's log state */
};

/* sodium_init and a libcrypto self-check; call once before anything else. */
DFT_EXPORT enum dft_err dft_crypto_init(struct dft_error *err) DFT_MUST_CHECK;

DFT_EXPORT struct dft_keys *dft_keys_new(void);
/* Derive the subkeys from master (call after master is set). */
DFT_EXPORT void dft_keys_derive(struct dft_keys *k);
DFT_EXPORT void dft_keys_free(struct dft_keys *k);

/* SHA-256 through OpenSSL libcrypto (SHA-NI where the CPU has it). */
DFT_EXPORT void dft_sha256(unsigned char out[DFT_HASH_BYTES], const void *p, size_t n);
/* SHA-256 over the concatenation of two pieces. */
DFT_EXPORT void dft_sha256_2(unsigned char out[DFT_HASH_BYTES], const void *a, size_t an,
                             const void *b, size_t bn);

/* Argon2id limits for a level (libsodium's INTERACTIVE, MODERATE, SENSITIVE). */
DFT_EXPORT void dft_kdf_limits(enum dft_kdf_level level, uint64_t *opslimit, uint64_t *memlimit);
DFT_EXPORT enum dft_err dft_kdf_parse(const char *name, enum dft_kdf_level *out) DFT_MUST_CHECK;

#endif
