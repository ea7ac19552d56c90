/*
 * oppath.h - internal to src/vault/: RFC 9162 inclusion paths over the operation hashes of one
 * envelope, with the envelope's subtree roots computed once and kept (per thread) while paths
 * of the same envelope are asked for one after another, as an export or a brief does.
 */
#ifndef DEFTER_VAULT_OPPATH_H
#define DEFTER_VAULT_OPPATH_H

#include <stddef.h>

#include "defter/crypto.h"

#define SD_PATH_MAX 64 /* hashes in a path: the depth of a tree of up to 2^64 leaves */

/*
 * PATH(m, D[0:n]) of RFC 9162 2.1.3.1 over the n 32-byte operation hashes h (leaves hashed as
 * sd_tree_root does), written to out (SD_PATH_MAX hashes) leaf side first. Returns the number
 * of hashes. The same bytes as computing each sibling with sd_tree_root.
 */
size_t sd_op_path(unsigned char out[SD_PATH_MAX * DFT_HASH_BYTES], size_t m, const unsigned char *h,
                  size_t n);

#endif
