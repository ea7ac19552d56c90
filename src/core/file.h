/*
 * file.h - the library's one set of file helpers (core layer; internal).
 *
 * The first group passes through a fault hook: file_fault_set(n, errnum) makes the nth call
 * from now on fail with errnum (tests only; 0 disables). Files are created 0600 with
 * O_EXCL|O_NOFOLLOW. Callers pass only ciphertext or public data.
 */
#ifndef DEFTER_CORE_FILE_H
#define DEFTER_CORE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "defter/core.h"

void file_fault_set(unsigned nth, int errnum);
/* 0 or -1 with errno set; a short write is retried, EINTR too. */
int file_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
int file_write_all(int fd, const void *p, size_t n);
int file_fsync(int fd);
int file_fsync_dir(const char *dir);
int file_rename_noreplace(const char *from, const char *to);
int file_rename(const char *from, const char *to);
/* pread that loops until n bytes or EOF; returns bytes read or -1. */
ssize_t file_pread_full(int fd, void *p, size_t n, uint64_t off);
/* Create a new 0600 file dir/PREFIX<random hex> with O_EXCL|O_NOFOLLOW; path gets the name. */
int file_create_temp(const char *dir, const char *prefix, char *path, size_t path_max);
/* Message for errno as the CLI shows it (lower case). */
const char *file_errstr(int e);

/*
 * Read a whole file of at most max bytes. DFT_ERR_NOT_FOUND, DFT_ERR_TOO_LARGE, DFT_ERR_IO.
 * (These four keep their old names until header.c is renamed on the coercion branch.)
 */
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
