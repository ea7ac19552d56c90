/*
 * zipread.c - a strict reader for the one ZIP layout Defter bundles use (docs/bundle-format.md
 * "The ZIP"): stored entries, one after the other from offset 0, the central directory right
 * after them, then the end records, every header field fixed or equal to its twin. Anything else
 * is refused, so a changed byte anywhere in a bundle is noticed, and a hostile archive cannot
 * make the reader seek or allocate beyond the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "bundle/zipread.h"

#define SIG_LOCAL     0x04034b50u
#define SIG_CENTRAL   0x02014b50u
#define SIG_EOCD      0x06054b50u
#define SIG_EOCD64    0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define MADE_BY       0x033fu     /* Unix, ZIP 6.3: what libzip writes */
#define NEEDED        10u         /* stored, no ZIP64 */
#define NEEDED64      45u         /* with ZIP64 fields */
#define DOS_TIME      0u          /* 00:00:00 */
#define DOS_DATE      0x0021u     /* 1980-01-01 */
#define EXT_ATTR      0x81a40000u /* regular file, mode 0644 */
#define LOCAL_BYTES   30u
#define CENTRAL_BYTES 46u
#define EOCD_BYTES    22u
#define EOCD64_BYTES  56u
#define LOCATOR_BYTES 20u
#define U32_MAX       0xffffffffu
#define CD_MAX        (256u << 20) /* central directory bytes */

uint32_t
bzip_crc32(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) { /* zlib takes an unsigned int length */
        unsigned int k = n > (1u << 30) ? 1u << 30 : (unsigned int)n;
        crc = (uint32_t)crc32(crc, b, k);
        b += k;
        n -= k;
    }
    return crc;
}

static uint64_t
le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i > 0; i--) {
        v = (v << 8) | p[i - 1];
    }
    return v;
}

enum dft_err
bzip_read(const struct bzip *z, uint64_t off, void *buf, size_t n, struct dft_error *err)
{
    if (off > z->size || n > z->size - off) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "not a valid bundle: the ZIP structure is damaged or truncated");
    }
    if (z->mem != NULL) {
        memcpy(buf, z->mem + off, n);
        return DFT_OK;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(z->fd, (unsigned char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return dft_fail(err, DFT_ERR_IO, "cannot read the bundle: %s",
                            r < 0 ? strerror(errno) : "unexpected end of file");
        }
        done += (size_t)r;
    }
    return DFT_OK;
}

static enum dft_err
damaged(struct dft_error *err)
{
    return dft_fail(err, DFT_ERR_INTEGRITY,
                    "not a valid bundle: the ZIP structure is damaged or truncated");
}

/* The end records: entry count, central directory offset and size. */
static enum dft_err
read_end(struct bzip *z, uint64_t *count, uint64_t *cd_off, uint64_t *cd_size,
         struct dft_error *err)
{
    unsigned char e[EOCD_BYTES];
    if (z->size < EOCD_BYTES || bzip_read(z, z->size - EOCD_BYTES, e, sizeof e, err) != DFT_OK ||
        le(e, 4) != SIG_EOCD || le(e + 4, 2) != 0 || le(e + 6, 2) != 0 ||
        le(e + 8, 2) != le(e + 10, 2) || le(e + 20, 2) != 0) {
        return damaged(err);
    }
    uint64_t n = le(e + 10, 2), size = le(e + 12, 4), off = le(e + 16, 4);
    uint64_t end = z->size - EOCD_BYTES; /* where the central directory (or ZIP64 records) ends */
    if (n == 0xffff || size == U32_MAX || off == U32_MAX) {
        unsigned char loc[LOCATOR_BYTES], r[EOCD64_BYTES];
        if (end < LOCATOR_BYTES + EOCD64_BYTES ||
            bzip_read(z, end - LOCATOR_BYTES, loc, sizeof loc, err) != DFT_OK ||
            le(loc, 4) != SIG_LOCATOR64 || le(loc + 4, 4) != 0 || le(loc + 16, 4) != 1 ||
            le(loc + 8, 8) != end - LOCATOR_BYTES - EOCD64_BYTES ||
            bzip_read(z, end - LOCATOR_BYTES - EOCD64_BYTES, r, sizeof r, err) != DFT_OK ||
            le(r, 4) != SIG_EOCD64 || le(r + 4, 8) != EOCD64_BYTES - 12 ||
            le(r + 12, 2) != MADE_BY || le(r + 14, 2) != NEEDED64 || le(r + 16, 4) != 0 ||
            le(r + 20, 4) != 0 || le(r + 24, 8) != le(r + 32, 8)) {
            return damaged(err);
        }
        uint64_t n64 = le(r + 32, 8), size64 = le(r + 40, 8), off64 = le(r + 48, 8);
        if ((n != 0xffff && n != n64) || (size != U32_MAX && size != size64) ||
            (off != U32_MAX && off != off64)) {
            return damaged(err);
        }
        n = n64;
        size = size64;
        off = off64;
        end -= LOCATOR_BYTES + EOCD64_BYTES;
    }
    if (n == 0 || n > BZIP_MAX_ENTRIES || size > CD_MAX || off > end || end - off != size) {
        return damaged(err);
    }
    *count = n;
    *cd_off = off;
    *cd_size = size;
    return DFT_OK;
}

/* Parse the ZIP64 extra field x (len bytes) for the fields that overflowed. */
static int
zip64_extra(const unsigned char *x, size_t len, uint64_t *usize, uint64_t *csize, uint64_t *offset)
{
    if (len == 0) {
        return *usize != U32_MAX && *csize != U32_MAX && (offset == NULL || *offset != U32_MAX);
    }
    if (len < 4 || le(x, 2) != 1 || le(x + 2, 2) != len - 4) {
        return 0;
    }
    size_t p = 4;
    uint64_t *fields[3] = {usize, csize, offset};
    for (int i = 0; i < 3; i++) {
        if (fields[i] != NULL && *fields[i] == U32_MAX) {
            if (p + 8 > len) {
                return 0;
            }
            *fields[i] = le(x + p, 8);
            p += 8;
        }
    }
    return p == len && p > 4;
}

static enum dft_err
parse(struct bzip *z, struct dft_error *err)
{
    uint64_t n = 0, cd_off = 0, cd_size = 0;
    enum dft_err rc = read_end(z, &n, &cd_off, &cd_size, err);
    if (rc != DFT_OK) {
        return rc;
    }
    unsigned char *cd = malloc((size_t)cd_size + 1);
    z->e = calloc((size_t)n, sizeof *z->e);
    if (cd == NULL || z->e == NULL) {
        free(cd);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if ((rc = bzip_read(z, cd_off, cd, (size_t)cd_size, err)) != DFT_OK) {
        goto out;
    }
    uint64_t pos = 0, expect_local = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct bzip_entry *e = &z->e[i];
        const unsigned char *c = cd + pos;
        if (cd_size - pos < CENTRAL_BYTES || le(c, 4) != SIG_CENTRAL) {
            rc = damaged(err);
            goto out;
        }
        uint64_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2);
        if (cd_size - pos - CENTRAL_BYTES < name_len + extra_len || name_len == 0 ||
            name_len > BZIP_NAME_MAX) {
            rc = damaged(err);
            goto out;
        }
        uint64_t csize = le(c + 20, 4), usize = le(c + 24, 4), local = le(c + 42, 4);
        int wide = csize == U32_MAX || usize == U32_MAX || local == U32_MAX;
        memcpy(e->name, c + CENTRAL_BYTES, (size_t)name_len);
        e->name[name_len] = '\0';
        e->crc = (uint32_t)le(c + 16, 4);
        if (strlen(e->name) != name_len || le(c + 4, 2) != MADE_BY ||
            le(c + 6, 2) != (wide ? NEEDED64 : NEEDED) || le(c + 8, 2) != 0 || le(c + 10, 2) != 0 ||
            le(c + 12, 2) != DOS_TIME || le(c + 14, 2) != DOS_DATE || le(c + 32, 2) != 0 ||
            le(c + 34, 2) != 0 || le(c + 36, 2) != 0 || le(c + 38, 4) != EXT_ATTR ||
            !zip64_extra(c + CENTRAL_BYTES + name_len, (size_t)extra_len, &usize, &csize, &local) ||
            csize != usize || local != expect_local) {
            rc = damaged(err);
            goto out;
        }
        pos += CENTRAL_BYTES + name_len + extra_len;
        /* Its local header: the same fields again, then the name, then the data. */
        unsigned char l[LOCAL_BYTES];
        if ((rc = bzip_read(z, local, l, sizeof l, err)) != DFT_OK) {
            goto out;
        }
        uint64_t lname = le(l + 26, 2), lextra = le(l + 28, 2);
        uint64_t lcsize = le(l + 18, 4), lusize = le(l + 22, 4);
        int lwide = lcsize == U32_MAX || lusize == U32_MAX;
        unsigned char lvar[BZIP_NAME_MAX + 64];
        if (le(l, 4) != SIG_LOCAL || le(l + 4, 2) != (lwide ? NEEDED64 : NEEDED) ||
            le(l + 6, 2) != 0 || le(l + 8, 2) != 0 || le(l + 10, 2) != DOS_TIME ||
            le(l + 12, 2) != DOS_DATE || le(l + 14, 4) != e->crc || lname != name_len ||
            lextra > 64 ||
            (rc = bzip_read(z, local + LOCAL_BYTES, lvar, (size_t)(lname + lextra), err)) !=
                DFT_OK ||
            memcmp(lvar, e->name, (size_t)name_len) != 0 ||
            !zip64_extra(lvar + lname, (size_t)lextra, &lusize, &lcsize, NULL) || lusize != usize ||
            lcsize != csize) {
            if (rc == DFT_OK) {
                rc = dft_fail(err, DFT_ERR_INTEGRITY,
                              "not a valid bundle: the headers of entry '%.128s' disagree "
                              "(lying sizes?)",
                              e->name);
            }
            goto out;
        }
        e->offset = local + LOCAL_BYTES + lname + lextra;
        e->size = usize;
        if (e->offset > cd_off || cd_off - e->offset < e->size) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "not a valid bundle: entry '%.128s' runs past its place (lying sizes?)",
                          e->name);
            goto out;
        }
        expect_local = e->offset + e->size;
        z->n = (size_t)i + 1;
    }
    if (pos != cd_size || expect_local != cd_off) {
        rc = damaged(err);
    }
out:
    free(cd);
    return rc;
}

enum dft_err
bzip_open_mem(struct bzip *z, const void *p, size_t n, struct dft_error *err)
{
    memset(z, 0, sizeof *z);
    z->fd = -1;
    z->mem = p;
    z->size = n;
    enum dft_err rc = parse(z, err);
    if (rc != DFT_OK) {
        bzip_close(z);
    }
    return rc;
}

enum dft_err
bzip_open_file(struct bzip *z, const char *path, struct dft_error *err)
{
    memset(z, 0, sizeof *z);
    z->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (z->fd < 0) {
        return dft_fail(err, errno == ENOENT ? DFT_ERR_NOT_FOUND : DFT_ERR_IO,
                        "cannot open '%.200s': %s", path, strerror(errno));
    }
    if (fstat(z->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(z->fd);
        z->fd = -1;
        return dft_fail(err, DFT_ERR_IO, "'%.200s' is not a regular file", path);
    }
    z->size = (uint64_t)st.st_size;
    enum dft_err rc = parse(z, err);
    if (rc != DFT_OK) {
        bzip_close(z);
    }
    return rc;
}

void
bzip_close(struct bzip *z)
{
    if (z->fd >= 0) {
        close(z->fd);
    }
    free(z->e);
    memset(z, 0, sizeof *z);
    z->fd = -1;
}
