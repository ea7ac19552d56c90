/*
 * fsutil.c - bounded reads, atomic file replacement and directory fsync.
 *
 * A crash at any instant leaves either the old or the new file, never a mix.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vault/fsutil.h"

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
