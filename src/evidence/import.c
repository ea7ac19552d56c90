/*
 * import.c - import a file as an evidence object in one pass: this thread reads and hashes
 * (SHA-256), a second thread encrypts (AES-256-GCM) and writes, through a ring of
 * EVD_SLOTS chunk buffers, so memory does not grow with the file.
 *
 * Never writes plaintext to disk, never reads the input twice, never leaves a temporary or
 * partial object behind on failure, and never replaces an existing object (dedup).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "evidence/internal.h"

struct encryptor {
    struct evd_pipe *pipe;
    EVP_CIPHER_CTX *ctx;
    const unsigned char *uid;
    int fd;
    int failed;         /* errno of the failure, or -1 for a crypto failure */
    struct evd_pad pad; /* padding, sealed a share at a time after each chunk */
};

static void *
encrypt_main(void *arg)
{
    struct encryptor *en = arg;
    struct evd_slot *s;
    uint64_t sync_from = 0;
    while ((s = evd_pipe_take(en->pipe)) != NULL) {
        uint64_t off = DFT_EVIDENCE_HEADER_BYTES +
                       s->index * ((uint64_t)DFT_EVIDENCE_CHUNK_BYTES + DFT_EVIDENCE_TAG_BYTES);
        if (evd_chunk_seal(en->ctx, s->buf, s->len, s->index, s->final, en->uid) != 0) {
            en->failed = -1;
            evd_pipe_abort(en->pipe);
            break;
        }
        if (file_pwrite_all(en->fd, s->buf, s->len + DFT_EVIDENCE_TAG_BYTES, off) != 0) {
            en->failed = errno ? errno : EIO;
            evd_pipe_abort(en->pipe);
            break;
        }
        if (evd_pad_step(&en->pad) != 0) {
            en->failed = errno ? errno : EIO;
            evd_pipe_abort(en->pipe);
            break;
        }
        if ((s->index + 1) % EVD_SYNC_EVERY == 0) {
            /* start writeback now so the final fsync has little left to do */
            uint64_t end = off + s->len + DFT_EVIDENCE_TAG_BYTES;
            (void)sync_file_range(en->fd, (off_t)sync_from, (off_t)(end - sync_from),
                                  SYNC_FILE_RANGE_WRITE);
            sync_from = end;
        }
        evd_pipe_consumed(en->pipe);
    }
    return NULL;
}

void
evidence_info_release(struct dft_evidence_info *info)
{
    if (info != NULL && info->meta != NULL) {
        json_decref(info->meta);
        info->meta = NULL;
    }
}

static enum dft_err
open_input(const char *path, int *fd_out, struct stat *st, struct dft_error *err)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return dft_fail(err,
                        e == ENOENT || e == ENOTDIR ? DFT_ERR_NOT_FOUND
                        : e == EACCES || e == EPERM ? DFT_ERR_INPUT
                                                    : DFT_ERR_IO,
                        "cannot open evidence '%s': %s", path, file_errstr(e));
    }
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return dft_fail(err, DFT_ERR_IO, "cannot stat evidence '%s': %s", path, file_errstr(e));
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        return dft_fail(err, DFT_ERR_INPUT, "cannot import '%s': is a directory", path);
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return dft_fail(err, DFT_ERR_INPUT, "cannot import '%s': not a regular file", path);
    }
    if ((uint64_t)st->st_size > DFT_EVIDENCE_SIZE_MAX) {
        close(fd);
        return dft_fail(err, DFT_ERR_TOO_LARGE, "cannot import '%s': larger than 4 TiB", path);
    }
    /* regular files ignore O_NONBLOCK; clear it anyway so reads are plain */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) {
        (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *fd_out = fd;
    return DFT_OK;
}

/* Read exactly n bytes; returns bytes read (less at EOF) or -1. */
static ssize_t
read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
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

static int
make_dir(const char *dir, int *created)
{
    *created = 0;
    if (mkdir(dir, 0700) == 0) {
        *created = 1;
        return 0;
    }
    return errno == EEXIST ? 0 : -1;
}

enum dft_err
evidence_import(const char *objects_dir, const struct dft_keys *keys, const char *path,
                dft_progress_fn progress, void *pctx, struct dft_evidence_info *info,
                struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    int in = -1, out = -1;
    int objdir_created = 0, threaded = 0;
    struct evd_placement pl;
    struct stat st, st2;
    char tmp[PATH_MAX];
    unsigned char *file_key = NULL, *head = NULL;
    size_t head_len = 0;
    unsigned char uid[EVD_UID_BYTES], sha[DFT_HASH_BYTES];
    struct evd_pipe pipe;
    int pipe_ok = 0;
    struct encryptor en = {&pipe, NULL, uid, -1, 0, {0}};
    struct crypto_sha256 md = {NULL};
    pthread_t th;

    memset(info, 0, sizeof *info);
    tmp[0] = '\0';
    memset(&pl, 0, sizeof pl);

    rc = open_input(path, &in, &st, err);
    if (rc != DFT_OK) {
        return rc;
    }
    uint64_t size = (uint64_t)st.st_size;
    uint64_t nchunks = evidence_chunk_count(size, DFT_EVIDENCE_CHUNK_BYTES);

    if (make_dir(objects_dir, &objdir_created) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot create the objects directory: %s",
                      file_errstr(errno));
        goto out;
    }
    out = file_create_temp(objects_dir, ".tmp-", tmp, sizeof tmp);
    if (out < 0) {
        tmp[0] = '\0';
        rc = dft_fail(err, DFT_ERR_IO, "cannot create an object file: %s", file_errstr(errno));
        goto out;
    }

    file_key = sodium_malloc(DFT_KEY_BYTES);
    head = malloc(size < DFT_EVIDENCE_CHUNK_BYTES ? (size_t)size + 1 : DFT_EVIDENCE_CHUNK_BYTES);
    if (file_key == NULL || head == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    randombytes_buf(file_key, DFT_KEY_BYTES);
    randombytes_buf(uid, sizeof uid);
    en.ctx = EVP_CIPHER_CTX_new();
    if (en.ctx == NULL ||
        EVP_EncryptInit_ex(en.ctx, EVP_aes_256_gcm(), NULL, file_key, NULL) != 1 ||
        crypto_sha256_init(&md, NULL) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot set up AES-256-GCM and SHA-256");
        goto out;
    }
    if (evd_pipe_init(&pipe, DFT_EVIDENCE_CHUNK_BYTES + DFT_EVIDENCE_TAG_BYTES) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    pipe_ok = 1;
    en.fd = out;
    if (evd_pad_begin(&en.pad, out, file_key, uid, size) != 0) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot set up AES-256-GCM");
        goto out;
    }
    if (pthread_create(&th, NULL, encrypt_main, &en) != 0) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "cannot start the encryption thread");
        goto out;
    }
    threaded = 1;

    uint64_t done = 0;
    for (uint64_t i = 0; i < nchunks; i++) {
        size_t want = (size_t)(size - done < DFT_EVIDENCE_CHUNK_BYTES ? size - done
                                                                      : DFT_EVIDENCE_CHUNK_BYTES);
        struct evd_slot *s = evd_pipe_acquire(&pipe);
        if (s == NULL) {
            break; /* the encryptor failed; reported below */
        }
        ssize_t r = read_full(in, s->buf, want);
        if (r < 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot read evidence '%s': %s", path,
                          file_errstr(errno));
            goto out;
        }
        if ((size_t)r != want) {
            rc = dft_fail(err, DFT_ERR_INPUT, "evidence '%s' changed size during import", path);
            goto out;
        }
        crypto_sha256_update(&md, s->buf, want);
        if (i == 0) {
            head_len = want;
            memcpy(head, s->buf, want);
        }
        s->len = want;
        s->index = i;
        s->final = i + 1 == nchunks;
        done += want;
        evd_pipe_submit(&pipe);
        if (progress != NULL) {
            progress(pctx, done, size);
        }
    }
    evd_pipe_finish(&pipe);
    pthread_join(th, NULL);
    threaded = 0;
    if (en.failed != 0) {
        rc = en.failed < 0 ? dft_fail(err, DFT_ERR_CRYPTO, "AES-256-GCM failed")
                           : dft_fail(err, DFT_ERR_IO, "cannot write an object file: %s",
                                      file_errstr(en.failed));
        goto out;
    }
    {
        unsigned char probe;
        ssize_t r = read_full(in, &probe, 1);
        if (r != 0 || fstat(in, &st2) != 0 || st2.st_size != st.st_size ||
            st2.st_mtim.tv_sec != st.st_mtim.tv_sec || st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec) {
            rc = dft_fail(err, DFT_ERR_INPUT, "evidence '%s' changed during import", path);
            goto out;
        }
    }
    if (evd_pad_end(&en.pad) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write an object file: %s", file_errstr(errno));
        goto out;
    }
    crypto_sha256_final(&md, sha);
    rc = evd_place(&out, tmp, objects_dir, objdir_created, keys, size, uid, file_key, sha, info,
                   &pl, err);
    if (rc != DFT_OK) {
        goto out;
    }
    rc = evd_meta_detect(head, head_len, info->mime, &info->meta, err);
    if (rc != DFT_OK) {
        goto out;
    }
    pl.placed = 0;
    pl.subdir_created = 0;

out:
    if (threaded) {
        evd_pipe_abort(&pipe);
        pthread_join(th, NULL);
    }
    if (pipe_ok) {
        evd_pipe_release(&pipe);
    }
    if (out >= 0) {
        close(out);
    }
    if (in >= 0) {
        close(in);
    }
    if (tmp[0] != '\0') {
        unlink(tmp);
    }
    evd_place_undo(&pl);
    if (rc != DFT_OK) {
        if (objdir_created) {
            (void)rmdir(objects_dir);
        }
        evidence_info_release(info);
        int created = info->created;
        memset(info, 0, sizeof *info);
        (void)created;
    }
    EVP_CIPHER_CTX_free(en.ctx);
    evd_pad_release(&en.pad);
    crypto_sha256_release(&md);
    if (file_key != NULL) {
        sodium_free(file_key);
    }
    if (head != NULL) {
        sodium_memzero(head, head_len);
        free(head);
    }
    sodium_memzero(sha, sizeof sha);
    return rc;
}
