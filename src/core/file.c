/*
 * file.c - the library's one set of file helpers: careful writes, fsyncs, renames and 0600
 * temporary files that a fault hook can make fail (tests: the Nth call fails with ENOSPC or
 * EIO), bounded reads, atomic replacement and directory fsync.
 *
 * Never follows a symlink when creating a file, never creates anything but 0600 files; a crash
 * at any instant leaves either the old or the new file, never a mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/file.h"

static unsigned fault_nth; /* calls left before the failing one; 0: off */
static int fault_errnum;
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;

void
file_fault_set(unsigned nth, int errnum)
{
    pthread_mutex_lock(&fault_mu);
    fault_nth = nth;
    fault_errnum = errnum;
    pthread_mutex_unlock(&fault_mu);
}

/* 1 when this call must fail (errno set). */
static int
fault_hit(void)
{
    int hit = 0;
    if (__atomic_load_n(&fault_nth, __ATOMIC_RELAXED) == 0) {
        return 0;
    }
    pthread_mutex_lock(&fault_mu);
    if (fault_nth > 0) {
        fault_nth--;
        if (fault_nth == 0) {
            hit = 1;
            errno = fault_errnum;
        }
    }
    pthread_mutex_unlock(&fault_mu);
    return hit;
}

const char *
file_errstr(int e)
{
    switch (e) {
    case ENOENT:
        return "no such file or directory";
    case EACCES:
    case EPERM:
        return "permission denied";
    case ENOSPC:
        return "no space left on device";
    case EIO:
        return "input/output error";
    case EISDIR:
        return "is a directory";
    case ENOTDIR:
        return "not a directory";
    case EEXIST:
        return "file exists";
    case ELOOP:
        return "too many levels of symbolic links";
    case EDQUOT:
        return "disk quota exceeded";
    case EROFS:
        return "read-only file system";
    default:
        return "system error";
    }
}

int
file_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const unsigned char *c = p;
    while (n > 0) {
        if (fault_hit()) {
            return -1;
        }
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int
file_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *c = p;
    while (n > 0) {
        if (fault_hit()) {
            return -1;
        }
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

ssize_t
file_pread_full(int fd, void *p, size_t n, uint64_t off)
{
    unsigned char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, c + got, n - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int
file_fsync(int fd)
{
    if (fault_hit()) {
        return -1;
    }
    return fsync(fd);
}

int
file_fsync_dir(const char *dir)
{
    if (fault_hit()) {
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int
file_rename_noreplace(const char *from, const char *to)
{
    if (fault_hit()) {
        return -1;
    }
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

int
file_rename(const char *from, const char *to)
{
    if (fault_hit()) {
        return -1;
    }
    return rename(from, to);
}

int
file_create_temp(const char *dir, const char *prefix, char *path, size_t path_max)
{
    for (int tries = 0; tries < 16; tries++) {
        unsigned char rnd[8];
        char hex[17];
        randombytes_buf(rnd, sizeof rnd);
        dft_hex_encode(hex, rnd, sizeof rnd);
        int n = snprintf(path, path_max, "%s/%s%s", dir, prefix, hex);
        if (n < 0 || (size_t)n >= path_max) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (fault_hit()) {
            return -1;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) {
            return fd;
        }
    }
    errno = EEXIST;
    return -1;
}

enum dft_err
dft_path_join(char *out, size_t max, const char *dir, const char *name, struct dft_error *err)
{
    int n = snprintf(out, max, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= max) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "path too long");
    }
    return DFT_OK;
}

enum dft_err
dft_read_small_file(const char *path, unsigned char *buf, size_t max, size_t *n,
                    struct dft_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            return DFT_ERR_NOT_FOUND;
        }
        return dft_fail(err, DFT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    size_t got = 0;
    enum dft_err rc = DFT_OK;
    for (;;) {
        if (got == max) {
            rc = DFT_ERR_TOO_LARGE;
            break;
        }
        ssize_t r = read(fd, buf + got, max - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *n = got;
    return rc;
}

enum dft_err
dft_fsync_dir_of(const char *path, int is_dir, struct dft_error *err)
{
    char dir[PATH_MAX];
    if (is_dir) {
        if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "path too long");
        }
    } else {
        const char *slash = strrchr(path, '/');
        if (slash == NULL) {
            dir[0] = '.';
            dir[1] = '\0';
        } else {
            size_t len = (size_t)(slash - path);
            if (len == 0) {
                len = 1;
            }
            if (len >= sizeof dir) {
                return dft_fail(err, DFT_ERR_TOO_LARGE, "path too long");
            }
            memcpy(dir, path, len);
            dir[len] = '\0';
        }
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot open directory '%s': %s", dir, strerror(errno));
    }
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot sync directory '%s': %s", dir, strerror(e));
    }
    return DFT_OK;
}

enum dft_err
dft_write_file_atomic(const char *path, const void *p, size_t n, struct dft_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "path too long");
    }
    (void)unlink(tmp); /* a stale temp file from a crash: it was never the live file */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
    }
    const unsigned char *c = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, c + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", tmp, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return dft_fail(err, DFT_ERR_IO, "cannot sync '%s': %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return dft_fail(err, DFT_ERR_IO, "cannot replace '%s': %s", path, strerror(e));
    }
    return dft_fsync_dir_of(path, 0, err);
}
