/*
 * crypto.h - the public part of the crypto layer: sizes, KDF levels and library set-up.
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

/* The unlocked key set of a vault: opaque outside the library (src/crypto/keys.h). */
struct dft_keys;

/* sodium_init and a libcrypto self-check; call once before anything else. */
DFT_EXPORT enum dft_err dft_crypto_init(struct dft_error *err) DFT_MUST_CHECK;

/* Argon2id limits for a level (libsodium's INTERACTIVE, MODERATE, SENSITIVE). */
DFT_EXPORT void dft_kdf_limits(enum dft_kdf_level level, uint64_t *opslimit, uint64_t *memlimit);
DFT_EXPORT enum dft_err dft_kdf_parse(const char *name, enum dft_kdf_level *out) DFT_MUST_CHECK;

#endif
