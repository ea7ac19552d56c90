/*
 * store_files.c - the default blob store of `defter serve`: evidence chunks as files
 * DIR/chunks/<cid>/<name>, written to a temporary file, fsynced, renamed without replacing and
 * the directory fsynced, so a chunk is either whole or absent after a crash.
 *
 * Chunks are ciphertext named by the client's keyed hash; this file must never see anything
 * else. Names are checked (hex only) before they touch a path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "sync/storage.h"

struct store_files {
    char dir[4096]; /* DIR/chunks */
};

static int
hex_name(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

static void
fs_close(void *self)
{
    free(self);
}

static enum dft_err
fs_open(void **self, const char *data_dir, const char *url, struct dft_error *err)
{
    (void)url;
    *self = NULL;
    struct store_files *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "chunk store: out of memory");
    }
    enum dft_err rc = dft_path_join(s->dir, sizeof s->dir, data_dir, "chunks", err);
    if (rc == DFT_OK && mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        rc = dft_fail(err, DFT_ERR_IO, "chunk store: cannot create '%s': %s", s->dir,
                      file_errstr(errno));
    }
    if (rc != DFT_OK) {
        free(s);
        return rc;
    }
    *self = s;
    return DFT_OK;
}

static enum dft_err
paths(struct store_files *s, const char *cid, const char *name, char *dir, char *path,
      struct dft_error *err)
{
    if (!hex_name(cid, SYNC_CID_MAX) || !hex_name(name, 128)) {
        return dft_fail(err, DFT_ERR_INPUT, "chunk store: bad collection or chunk name");
    }
    enum dft_err rc = dft_path_join(dir, 4096, s->dir, cid, err);
    if (rc == DFT_OK) {
        rc = dft_path_join(path, 4096, dir, name, err);
    }
    return rc;
}

static enum dft_err
fs_put(void *self, const char *cid, const char *name, const unsigned char *body, size_t n,
       struct dft_error *err)
{
    struct store_files *s = self;
    char dir[4096], path[4096], tmp[4096];
    enum dft_err rc = paths(s, cid, name, dir, path, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return dft_fail(err, DFT_ERR_IO, "chunk store: cannot create a directory: %s",
                        file_errstr(errno));
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        return DFT_OK; /* names are content hashes: keep the first */
    }
    int fd = file_create_temp(dir, ".tmp-", tmp, sizeof tmp);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "chunk store: cannot create a file: %s",
                        file_errstr(errno));
    }
    if (file_write_all(fd, body, n) != 0 || file_fsync(fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "chunk store: cannot write a chunk: %s", file_errstr(errno));
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    if (file_rename_noreplace(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        if (e != EEXIST) {
            return dft_fail(err, DFT_ERR_IO, "chunk store: cannot keep a chunk: %s",
                            file_errstr(e));
        }
        return DFT_OK;
    }
    if (file_fsync_dir(dir) != 0) {
        return dft_fail(err, DFT_ERR_IO, "chunk store: cannot sync a directory: %s",
                        file_errstr(errno));
    }
    return DFT_OK;
}

static enum dft_err
fs_get(void *self, const char *cid, const char *name, struct dft_buf *out, struct dft_error *err)
{
    struct store_files *s = self;
    char dir[4096], path[4096];
    enum dft_err rc = paths(s, cid, name, dir, path, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return dft_fail(err, DFT_ERR_NOT_FOUND, "no such chunk");
        }
        return dft_fail(err, DFT_ERR_IO, "chunk store: cannot open a chunk: %s",
                        file_errstr(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > SYNC_CHUNK_MAX) {
        close(fd);
        return dft_fail(err, DFT_ERR_INTEGRITY, "chunk store: a chunk has a bad size");
    }
    size_t n = (size_t)st.st_size;
    if ((rc = dft_buf_reserve(out, n)) != DFT_OK) {
        close(fd);
        return dft_fail(err, rc, "chunk store: out of memory");
    }
    ssize_t got = file_pread_full(fd, out->data + out->len, n, 0);
    close(fd);
    if (got < 0 || (size_t)got != n) {
        return dft_fail(err, DFT_ERR_IO, "chunk store: cannot read a chunk");
    }
    out->len += n;
    out->data[out->len] = '\0';
    return DFT_OK;
}

const struct sync_blob_ops sync_blob_files = {
    .name = "files",
    .open = fs_open,
    .close = fs_close,
    .put = fs_put,
    .get = fs_get,
};
