/*
 * stream.c - import evidence pushed in pieces (an HTTP upload) rather than read from a path:
 * each byte is hashed (SHA-256) and encrypted (AES-256-GCM, the object format of
 * docs/evidence-format.md) as it arrives, in one pass, and the object is placed like
 * evidence_import places it. Recording it on a record is the vault's (src/vault/evidence.c).
 *
 * The size is known only at the end, so the writer holds back the last chunk until the next
 * byte or evidence_writer_finish says whether it is final. Never writes plaintext to disk,
 * never keeps more than one chunk of plaintext in memory, never leaves a temporary or partial
 * object behind on failure or abort, and never replaces an existing object (dedup).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "evidence/internal.h"

struct dft_evidence_writer {
    char objects_dir[PATH_MAX];
    char tmp[PATH_MAX];      /* the temporary object file; "" once gone */
    int fd;                  /* the temporary object file, or -1 */
    int objdir_created;      /* objects_dir did not exist before */
    int failed;              /* a write failed: only abort is left */
    uint64_t max;            /* plaintext byte cap */
    uint64_t size;           /* plaintext bytes accepted */
    uint64_t index;          /* chunks written */
    unsigned char *buf;      /* one chunk and its tag (plaintext until sealed) */
    size_t len;              /* plaintext bytes in buf */
    unsigned char *file_key; /* sodium_malloc: random per object */
    unsigned char uid[EVD_UID_BYTES];
    EVP_CIPHER_CTX *ctx;     /* AES-256-GCM under file_key */
    struct crypto_sha256 md; /* SHA-256 of the plaintext */
    char mime[DFT_MIME_MAX]; /* from the first chunk */
    json_t *meta;            /* from the first chunk; owned */
};

void
dft_evidence_writer_abort(struct dft_evidence_writer *w)
{
    if (w == NULL) {
        return;
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    if (w->tmp[0] != '\0') {
        (void)unlink(w->tmp);
    }
    if (w->objdir_created) {
        (void)rmdir(w->objects_dir);
    }
    if (w->buf != NULL) {
        sodium_memzero(w->buf, (size_t)DFT_EVIDENCE_CHUNK_BYTES + DFT_EVIDENCE_TAG_BYTES);
        free(w->buf);
    }
    if (w->file_key != NULL) {
        sodium_free(w->file_key);
    }
    EVP_CIPHER_CTX_free(w->ctx);
    crypto_sha256_release(&w->md);
    json_decref(w->meta);
    sodium_memzero(w, sizeof *w);
    free(w);
}

enum dft_err
evidence_writer_open(struct dft_evidence_writer **out, const char *objects_dir, uint64_t max,
                     struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct dft_evidence_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    w->fd = -1;
    w->max = max < DFT_EVIDENCE_SIZE_MAX ? max : DFT_EVIDENCE_SIZE_MAX;
    int n = snprintf(w->objects_dir, sizeof w->objects_dir, "%s", objects_dir);
    if (n < 0 || (size_t)n >= sizeof w->objects_dir) {
        rc = dft_fail(err, DFT_ERR_INPUT, "objects directory path is too long");
        goto out;
    }
    if (mkdir(objects_dir, 0700) == 0) {
        w->objdir_created = 1;
    } else if (errno != EEXIST) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot create the objects directory: %s",
                      file_errstr(errno));
        goto out;
    }
    w->fd = file_create_temp(objects_dir, ".tmp-", w->tmp, sizeof w->tmp);
    if (w->fd < 0) {
        w->tmp[0] = '\0';
        rc = dft_fail(err, DFT_ERR_IO, "cannot create an object file: %s", file_errstr(errno));
        goto out;
    }
    w->buf = malloc((size_t)DFT_EVIDENCE_CHUNK_BYTES + DFT_EVIDENCE_TAG_BYTES);
    w->file_key = sodium_malloc(DFT_KEY_BYTES);
    w->ctx = EVP_CIPHER_CTX_new();
    if (w->buf == NULL || w->file_key == NULL || w->ctx == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    randombytes_buf(w->file_key, DFT_KEY_BYTES);
    randombytes_buf(w->uid, sizeof w->uid);
    if (EVP_EncryptInit_ex(w->ctx, EVP_aes_256_gcm(), NULL, w->file_key, NULL) != 1 ||
        crypto_sha256_init(&w->md, NULL) != DFT_OK) {
        rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot set up AES-256-GCM and SHA-256");
        goto out;
    }
    *out = w;
    w = NULL;
out:
    dft_evidence_writer_abort(w);
    return rc;
}

/* Seal and write the chunk held in buf. */
static enum dft_err
flush_chunk(struct dft_evidence_writer *w, int final, struct dft_error *err)
{
    uint64_t off = DFT_EVIDENCE_HEADER_BYTES +
                   w->index * ((uint64_t)DFT_EVIDENCE_CHUNK_BYTES + DFT_EVIDENCE_TAG_BYTES);
    if (w->index == 0) {
        enum dft_err rc = evd_meta_detect(w->buf, w->len, w->mime, &w->meta, err);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    if (evd_chunk_seal(w->ctx, w->buf, w->len, w->index, final, w->uid) != 0) {
        return dft_fail(err, DFT_ERR_CRYPTO, "AES-256-GCM failed");
    }
    if (file_pwrite_all(w->fd, w->buf, w->len + DFT_EVIDENCE_TAG_BYTES, off) != 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot write an object file: %s", file_errstr(errno));
    }
    w->index++;
    w->len = 0;
    return DFT_OK;
}

enum dft_err
dft_evidence_writer_write(struct dft_evidence_writer *w, const void *data, size_t n,
                          struct dft_error *err)
{
    const unsigned char *p = data;
    enum dft_err rc = DFT_OK;
    if (w->failed) {
        return dft_fail(err, DFT_ERR_INPUT, "evidence upload already failed");
    }
    if (n > w->max - w->size) {
        rc = dft_fail(err, DFT_ERR_TOO_LARGE, "evidence larger than the %llu-byte limit",
                      (unsigned long long)w->max);
        goto out;
    }
    while (n > 0) {
        if (w->len == DFT_EVIDENCE_CHUNK_BYTES) {
            /* more bytes follow, so the held chunk is not the last */
            rc = flush_chunk(w, 0, err);
            if (rc != DFT_OK) {
                goto out;
            }
        }
        size_t take = DFT_EVIDENCE_CHUNK_BYTES - w->len;
        if (take > n) {
            take = n;
        }
        memcpy(w->buf + w->len, p, take);
        crypto_sha256_update(&w->md, p, take);
        w->len += take;
        w->size += take;
        p += take;
        n -= take;
    }
out:
    if (rc != DFT_OK) {
        w->failed = 1;
    }
    return rc;
}

uint64_t
dft_evidence_writer_size(const struct dft_evidence_writer *w)
{
    return w->size;
}

enum dft_err
evidence_writer_finish(struct dft_evidence_writer *w, const struct dft_keys *keys,
                       struct dft_evidence_info *info, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char sha[DFT_HASH_BYTES];
    struct evd_placement pl;

    memset(&pl, 0, sizeof pl);
    memset(info, 0, sizeof *info);
    if (w->failed) {
        rc = dft_fail(err, DFT_ERR_INPUT, "evidence upload already failed");
        goto out;
    }
    rc = flush_chunk(w, 1, err);
    if (rc != DFT_OK) {
        goto out;
    }
    rc = evd_pad_write(w->fd, w->file_key, w->uid, w->size, err);
    if (rc != DFT_OK) {
        goto out;
    }
    crypto_sha256_final(&w->md, sha);
    rc = evd_place(&w->fd, w->tmp, w->objects_dir, w->objdir_created, keys, w->size, w->uid,
                   w->file_key, sha, info, &pl, err);
    if (rc != DFT_OK) {
        goto out;
    }
    memcpy(info->mime, w->mime, sizeof info->mime);
    info->meta = w->meta != NULL ? w->meta : json_object();
    w->meta = NULL;
    if (info->meta == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    pl.placed = 0;
    pl.subdir_created = 0;
    w->objdir_created = 0; /* it holds an object now */
out:
    evd_place_undo(&pl);
    if (rc != DFT_OK) {
        evidence_info_release(info);
        memset(info, 0, sizeof *info);
    }
    dft_evidence_writer_abort(w); /* frees; removes the temporary file if still there */
    sodium_memzero(sha, sizeof sha);
    return rc;
}
