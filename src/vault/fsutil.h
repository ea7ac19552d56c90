/*
 * fsutil.h - the vault's view of the file helpers (core/file.h), kept for header.c.
 *
 * Files are created 0600 with O_EXCL|O_NOFOLLOW. Callers pass only ciphertext or public data.
 */
#ifndef DEFTER_VAULT_FSUTIL_H
#define DEFTER_VAULT_FSUTIL_H

#include "defter/core.h"

#include "crypto/keys.h" /* header.c reads struct dft_keys */

#include "core/file.h" /* the helpers live in the core layer now */

#endif
