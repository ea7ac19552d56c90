/*
 * fsutil.h - the vault's view of the file helpers (core/file.h), kept for header.c.
 *
 * Files are created 0600 with O_EXCL|O_NOFOLLOW. Callers pass only ciphertext or public data.
 */
#ifndef DEFTER_VAULT_FSUTIL_H
#define DEFTER_VAULT_FSUTIL_H

#include "defter/core.h"

/*
 * MERGE NOTE: header.c (coercion's) still uses the old names and reads struct dft_keys through
 * this header; once the rename map is applied there, the two #defines can go.
 */
#include "crypto/keys.h"
#define dft_keys_derive keys_derive
#define dft_sha256      crypto_sha256_once

#include "core/file.h" /* the helpers live in the core layer now */

#endif
