/*
 * envelope.h - signed, sealed batches of operations: the unit of the log.
 *
 * Internal to src/vault. Binary layout and the selective-disclosure digests are specified in
 * docs/vault-format.md ("Envelopes"). What the author signs is in clear: the envelope header and
 * the root of a Merkle tree over per-operation hashes, each a hash over salted field digests;
 * operations and salts travel only inside the XChaCha20-Poly1305 ciphertext.
 */
#ifndef DEFTER_VAULT_ENVELOPE_H
#define DEFTER_VAULT_ENVELOPE_H

#include <jansson.h>

#include "defter/core.h"
#include "defter/crypto.h"

#define DFT_ENV_MAGIC       "DFTE"
#define DFT_ENV_VERSION     1
#define DFT_ENV_HEAD_BYTES  137 /* magic..signature: 4+1+32+4+32+64 */
#define DFT_ENV_FIXED_BYTES 165 /* + nonce 24 + ciphertext length 4 */
#define DFT_ENV_MAX         (1024u * 1024u * 1024u)
#define DFT_SALT_BYTES      16
#define DFT_SALT_KEY_BYTES  32 /* per operation; item salts are derived from it */

/* What can be read of an envelope without keys. */
struct dft_envelope_info {
    unsigned char author[DFT_SIGN_PK_BYTES];
    uint32_t op_count;
    unsigned char sd_root[DFT_HASH_BYTES];
};

/*
 * Seal ops (a JSON array of complete operation objects) into out: fresh salts, digests, root,
 * Ed25519 signature with k->sign_sk, XChaCha20-Poly1305 under k->seal_key.
 */
enum dft_err dft_envelope_seal(const struct dft_keys *k, const json_t *ops, struct dft_buf *out,
                               struct dft_error *err) DFT_MUST_CHECK;

/* Parse the clear part strictly and check the signature. DFT_ERR_INTEGRITY on any problem. */
enum dft_err dft_envelope_inspect(const unsigned char *env, size_t n,
                                  struct dft_envelope_info *info,
                                  struct dft_error *err) DFT_MUST_CHECK;

/*
 * Inspect, decrypt, and check that the operations and salts reproduce the signed root and that
 * every operation names the envelope's author. *ops_out: new reference to the operation array.
 */
enum dft_err dft_envelope_open(const struct dft_keys *k, const unsigned char *env, size_t n,
                               json_t **ops_out, struct dft_error *err) DFT_MUST_CHECK;

/* Canonical JSON text (compact, keys sorted bytewise, UTF-8) into out; appended. */
enum dft_err dft_json_canonical(const json_t *j, struct dft_buf *out,
                                struct dft_error *err) DFT_MUST_CHECK;

/* The digest of one disclosed item: SHA-256(salt ‖ canonical [name, value]). */
enum dft_err dft_sd_item_digest(unsigned char out[DFT_HASH_BYTES],
                                const unsigned char salt[DFT_SALT_BYTES], const char *name,
                                const json_t *value, struct dft_error *err) DFT_MUST_CHECK;

/* An item's salt: BLAKE2b-128 keyed with the operation's salt key, over the item name. */
void dft_sd_item_salt(unsigned char salt[DFT_SALT_BYTES],
                      const unsigned char key[DFT_SALT_KEY_BYTES], const char *name);

/* RFC 6962 Merkle tree hash over n 32-byte hashes (n >= 1). */
void dft_sd_tree_root(unsigned char out[DFT_HASH_BYTES], const unsigned char *hashes, size_t n);

#endif
