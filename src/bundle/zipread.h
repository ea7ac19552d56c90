/*
 * zipread.h - the strict ZIP reader of the bundle verifier (zipread.c).
 */
#ifndef DEFTER_BUNDLE_ZIPREAD_H
#define DEFTER_BUNDLE_ZIPREAD_H

#include <stdint.h>

#include "defter/core.h"

#define BZIP_NAME_MAX    128
#define BZIP_MAX_ENTRIES 1000000

struct bzip_entry {
    char name[BZIP_NAME_MAX + 1];
    uint64_t offset; /* of the data */
    uint64_t size;
    uint32_t crc;
};

struct bzip {
    int fd;                   /* file, or -1 */
    const unsigned char *mem; /* or a buffer (borrowed) */
    uint64_t size;
    struct bzip_entry *e; /* in file order */
    size_t n;
};

/* Parse the whole layout; DFT_ERR_INTEGRITY names the problem. bzip_close frees. */
enum dft_err bzip_open_file(struct bzip *z, const char *path, struct dft_error *err) DFT_MUST_CHECK;
enum dft_err bzip_open_mem(struct bzip *z, const void *p, size_t n,
                           struct dft_error *err) DFT_MUST_CHECK;
void bzip_close(struct bzip *z);
/* n bytes at off (within the file). */
enum dft_err bzip_read(const struct bzip *z, uint64_t off, void *buf, size_t n,
                       struct dft_error *err) DFT_MUST_CHECK;
/* CRC-32 (ISO 3309, as ZIP): start with crc = 0. */
uint32_t bzip_crc32(uint32_t crc, const void *p, size_t n);

#endif
