/*
 * fsutil.h - small, careful file helpers: bounded reads, atomic replace, directory fsync.
 *
 * Files are created 0600 with O_EXCL|O_NOFOLLOW. Callers pass only ciphertext or public data.
 */
#ifndef DEFTER_VAULT_FSUTIL_H
#define DEFTER_VAULT_FSUTIL_H

#include "defter/core.h"

/*
 * MERGE NOTE: header.c (coercion's) still uses the old names and reads struct dft_keys through
 * this header; once the rename map is applied there, these three lines can go.
 */
#include "crypto/keys.h"
#define dft_keys_derive keys_derive
#define dft_sha256      crypto_sha256_once

/* Read a whole file of at most max bytes. DFT_ERR_NOT_FOUND, DFT_ERR_TOO_LARGE, DFT_ERR_IO. */
enum dft_err dft_read_small_file(const char *path, unsigned char *buf, size_t max, size_t *n,
                                 struct dft_error *err) DFT_MUST_CHECK;

/* Write path atomically: path.tmp (O_EXCL, 0600), fsync, rename, fsync the directory. */
enum dft_err dft_write_file_atomic(const char *path, const void *p, size_t n,
                                   struct dft_error *err) DFT_MUST_CHECK;

/* fsync the directory that holds path (or the directory itself when is_dir). */
enum dft_err dft_fsync_dir_of(const char *path, int is_dir, struct dft_error *err) DFT_MUST_CHECK;

/* Join a directory and a name into out (of size max). DFT_ERR_TOO_LARGE if it does not fit. */
enum dft_err dft_path_join(char *out, size_t max, const char *dir, const char *name,
                           struct dft_error *err) DFT_MUST_CHECK;

#endif
