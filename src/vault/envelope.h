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

#include "crypto/keys.h"
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
enum dft_err envelope_seal(const struct dft_keys *k, const json_t *ops, struct dft_buf *out,
                           struct dft_error *err) DFT_MUST_CHECK;
/*
 * The same, calling each(ctx, i, bytes, len) with op i's canonical JSON as soon as it is written
 * into the envelope (the bytes are valid during the call only), in order.
 */
typedef void (*envelope_op_fn)(void *ctx, size_t i, const unsigned char *op, size_t len);
enum dft_err envelope_seal_each(const struct dft_keys *k, const json_t *ops, struct dft_buf *out,
                                envelope_op_fn each, void *ctx,
                                struct dft_error *err) DFT_MUST_CHECK;

/* Parse the clear part strictly and check the signature. DFT_ERR_INTEGRITY on any problem. */
enum dft_err envelope_inspect(const unsigned char *env, size_t n, struct dft_envelope_info *info,
                              struct dft_error *err) DFT_MUST_CHECK;

/* The same checks on the signed head alone (DFT_ENV_HEAD_BYTES bytes at head). */
enum dft_err envelope_inspect_head(const unsigned char *head, struct dft_envelope_info *info,
                                   struct dft_error *err) DFT_MUST_CHECK;

/*
 * Inspect, decrypt, and check that the operations and salts reproduce the signed root and that
 * every operation names the envelope's author. *ops_out: new reference to the operation array.
 */
enum dft_err envelope_open(const struct dft_keys *k, const unsigned char *env, size_t n,
                           json_t **ops_out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * As envelope_open, but *items_out receives the decrypted array of {"op", "salt_key"} items
 * (new reference) after the same checks: for selective disclosure, which needs the salts.
 */
enum dft_err envelope_open_items(const struct dft_keys *k, const unsigned char *env, size_t n,
                                 json_t **items_out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * envelope_open_items in three parts, for verify (verify_pipe.c), which hashes the operations of
 * one envelope on two threads: _parse inspects, decrypts and parses (*items_out: new reference,
 * info->op_count items); _hash checks items [from, to) and writes their hashes at
 * hashes + i * DFT_HASH_BYTES (only reads items: two ranges may run at once); _root checks the
 * signed root over all op_count hashes. The same checks and messages as envelope_open_items.
 */
enum dft_err envelope_open_parse(const struct dft_keys *k, const unsigned char *env, size_t n,
                                 struct dft_envelope_info *info, json_t **items_out,
                                 struct dft_error *err) DFT_MUST_CHECK;
/*
 * The decrypted plaintext of an envelope, kept by envelope_open_parse_kept (secure memory, wiped
 * and freed by envelope_plain_free), and where each item's "op" lies in it: when canonical is
 * set, data[op_off[i], op_off[i] + op_len[i]) is json_canonical of item i's op, byte for byte
 * (crypto/json_fast.h), and verify sums the history rows from it instead of encoding each op.
 */
struct envelope_plain {
    unsigned char *data;
    size_t len;
    size_t *op_off, *op_len; /* op_count entries each, or NULL */
    int canonical;
};
enum dft_err envelope_open_parse_kept(const struct dft_keys *k, const unsigned char *env, size_t n,
                                      struct dft_envelope_info *info, json_t **items_out,
                                      struct envelope_plain *plain,
                                      struct dft_error *err) DFT_MUST_CHECK;
void envelope_plain_free(struct envelope_plain *plain);
enum dft_err envelope_open_hash(const json_t *items, const struct dft_envelope_info *info,
                                size_t from, size_t to, unsigned char *hashes,
                                struct dft_error *err) DFT_MUST_CHECK;
enum dft_err envelope_open_root(const struct dft_envelope_info *info, const unsigned char *hashes,
                                struct dft_error *err) DFT_MUST_CHECK;

/* Canonical JSON text (compact, keys sorted bytewise, UTF-8) into out; appended. */
enum dft_err json_canonical(const json_t *j, struct dft_buf *out,
                            struct dft_error *err) DFT_MUST_CHECK;
/* Canonical JSON of the array of the n strings s (UTF-8), appended to out, without jansson. */
enum dft_err json_canonical_strings(const char *const *s, size_t n, struct dft_buf *out,
                                    struct dft_error *err) DFT_MUST_CHECK;
/* The same bytes from jansson's dump (the reference json_canonical matches; for tests). */
enum dft_err json_canonical_jansson(const json_t *j, struct dft_buf *out,
                                    struct dft_error *err) DFT_MUST_CHECK;

/* The digest of one disclosed item: SHA-256(salt ‖ canonical [name, value]). */
enum dft_err sd_item_digest(unsigned char out[DFT_HASH_BYTES],
                            const unsigned char salt[DFT_SALT_BYTES], const char *name,
                            const json_t *value, struct dft_error *err) DFT_MUST_CHECK;

/* An item's salt: BLAKE2b-128 keyed with the operation's salt key, over the item name. */
void sd_item_salt(unsigned char salt[DFT_SALT_BYTES], const unsigned char key[DFT_SALT_KEY_BYTES],
                  const char *name);

/* The hash of one operation: SHA-256(0x02 ‖ its item digests sorted bytewise). */
enum dft_err sd_op_hash(unsigned char out[DFT_HASH_BYTES], const json_t *op,
                        const unsigned char key[DFT_SALT_KEY_BYTES],
                        struct dft_error *err) DFT_MUST_CHECK;

/* RFC 6962 Merkle tree hash over n 32-byte hashes (n >= 1). */
void sd_tree_root(unsigned char out[DFT_HASH_BYTES], const unsigned char *hashes, size_t n);

/* ---- selective disclosure (disclose.c; docs/vault-format.md "Disclosures") ---- */

#define DFT_DISCLOSURE_VERSION 1

/*
 * Open env with k and build a disclosure of operation op_index (0-based) revealing the items
 * named in names (item names as in the format: a top-level key such as "record" or "type", or
 * "fields/" + a field name); every other item of that operation is withheld as its digest.
 * *out: new JSON object {"v","head","index","revealed","withheld","path"}. DFT_ERR_INPUT for an
 * index out of range, an unknown or repeated name; envelope errors as envelope_open.
 * Hands out the salts of the revealed items only, never the operation's salt key.
 */
enum dft_err envelope_disclose(const struct dft_keys *k, const unsigned char *env, size_t n,
                               size_t op_index, const char *const *names, size_t n_names,
                               json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Check a disclosure without any key: the head's signature (by author when not NULL), the
 * revealed items and withheld digests against the operation hash, and its inclusion path to the
 * signed root. On success *info (may be NULL) gets the head's fields and *revealed (may be NULL)
 * a new object {item name: value}. DFT_ERR_INPUT for a document of the wrong shape,
 * DFT_ERR_INTEGRITY for anything that does not verify.
 */
enum dft_err disclosure_verify(const json_t *d, const unsigned char *author,
                               struct dft_envelope_info *info, json_t **revealed,
                               struct dft_error *err) DFT_MUST_CHECK;

#endif
