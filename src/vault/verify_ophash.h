/*
 * verify_ophash.h - operation hashes from an envelope's canonical plaintext, for verify.
 * Internal to src/vault.
 *
 * envelope_open_hash encodes every disclosure item of an operation ([name, value] in canonical
 * JSON) before hashing it. When the parse found the plaintext canonical (envelope_plain), each
 * value's canonical JSON already lies in it: verify_open_hash_kept hashes the items from there,
 * with the same salts, digests, order and operation hash. An operation it cannot take that way (a
 * key holding an escape, a malformed item, anything envelope_open_hash would reject) is hashed
 * by envelope_open_hash itself, so results and messages are the same.
 */
#ifndef DEFTER_VAULT_VERIFY_OPHASH_H
#define DEFTER_VAULT_VERIFY_OPHASH_H

#include <jansson.h>

#include "defter/core.h"
#include "vault/envelope.h"

/* envelope_open_hash(items, info, from, to, hashes, err), faster when plain is canonical. */
enum dft_err verify_open_hash_kept(const json_t *items, const struct dft_envelope_info *info,
                                   const struct envelope_plain *plain, size_t from, size_t to,
                                   unsigned char *hashes, struct dft_error *err) DFT_MUST_CHECK;

/*
 * The operation hash of op from t (n bytes), its canonical JSON, under the item salt key:
 * 1 when done, 0 when op is not of the simple shape (the caller uses envelope_open_hash).
 */
int verify_op_hash_text(unsigned char out[DFT_HASH_BYTES], const json_t *op, const unsigned char *t,
                        size_t n, const unsigned char key[DFT_SALT_KEY_BYTES],
                        struct dft_buf *scratch);

#endif
