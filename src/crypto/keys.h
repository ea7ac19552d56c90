/*
 * keys.h - the vault's key set and its derived subkeys (internal: no key leaves the library).
 *
 * Secrets live in sodium_malloc memory and are wiped on release. Never logs key material.
 */
#ifndef DEFTER_CRYPTO_KEYS_H
#define DEFTER_CRYPTO_KEYS_H

#include <stddef.h>

#include "defter/crypto.h"

/*
 * The unlocked key set of a vault. Allocated with sodium_malloc by keys_new (guard pages,
 * mlock, excluded from core dumps); keys_free wipes it.
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
    /* Not a key: 1 while the vault is camouflaged, so new evidence objects get camouflaged
     * headers (docs/evidence-format.md); set by the vault before each import. */
    unsigned char camouflage;
};

struct dft_keys *keys_new(void);
/* Derive the subkeys from master (call after master is set). */
void keys_derive(struct dft_keys *k);
void keys_free(struct dft_keys *k);

/* SHA-256 through OpenSSL libcrypto (SHA-NI where the CPU has it). */
void crypto_sha256_once(unsigned char out[DFT_HASH_BYTES], const void *p, size_t n);
/* SHA-256 over the concatenation of two pieces. */
void crypto_sha256_pair(unsigned char out[DFT_HASH_BYTES], const void *a, size_t an, const void *b,
                        size_t bn);

#endif
