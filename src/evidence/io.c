/*
 * io.c - the file-system calls of the evidence layer, each passing through a fault hook that
 * tests use to fail the Nth call (ENOSPC, EIO), and the ring of chunk buffers.
 *
 * Never follows a symlink when creating a file, never creates anything but 0600 files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "evidence/internal.h"

static unsigned fault_nth; /* calls left before the failing one; 0: off */
static int fault_errnum;
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;

void
evidence_fault_set(unsigned nth, int errnum)
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
evd_errstr(int e)
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
evd_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
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
evd_write_all(int fd, const void *p, size_t n)
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
evd_pread_full(int fd, void *p, size_t n, uint64_t off)
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
evd_fsync(int fd)
{
    if (fault_hit()) {
        return -1;
    }
    return fsync(fd);
}

int
evd_fsync_dir(const char *dir)
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
evd_rename_noreplace(const char *from, const char *to)
{
    if (fault_hit()) {
        return -1;
    }
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

int
evd_rename(const char *from, const char *to)
{
    if (fault_hit()) {
        return -1;
    }
    return rename(from, to);
}

int
evd_create_temp(const char *dir, const char *prefix, char *path, size_t path_max)
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

/* ---- the ring ---- */

int
evd_pipe_init(struct evd_pipe *p, size_t slot_bytes)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < EVD_SLOTS; i++) {
        p->slots[i].buf = malloc(slot_bytes);
        if (p->slots[i].buf == NULL) {
            for (size_t j = 0; j < i; j++) {
                free(p->slots[j].buf);
                p->slots[j].buf = NULL;
            }
            return -1;
        }
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_full, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    return 0;
}

void
evd_pipe_release(struct evd_pipe *p)
{
    for (size_t i = 0; i < EVD_SLOTS; i++) {
        if (p->slots[i].buf != NULL) {
            /* slots held plaintext */
            sodium_memzero(p->slots[i].buf, DFT_EVIDENCE_CHUNK_BYTES + DFT_EVIDENCE_TAG_BYTES);
            free(p->slots[i].buf);
            p->slots[i].buf = NULL;
        }
    }
    pthread_cond_destroy(&p->cv_full);
    pthread_cond_destroy(&p->cv_free);
    pthread_mutex_destroy(&p->mu);
}

struct evd_slot *
evd_pipe_acquire(struct evd_pipe *p)
{
    struct evd_slot *s = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->head - p->tail == EVD_SLOTS && !p->abort) {
        pthread_cond_wait(&p->cv_free, &p->mu);
    }
    if (!p->abort) {
        s = &p->slots[p->head % EVD_SLOTS];
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

void
evd_pipe_submit(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->head++;
    pthread_cond_signal(&p->cv_full);
    pthread_mutex_unlock(&p->mu);
}

void
evd_pipe_finish(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_broadcast(&p->cv_full);
    pthread_mutex_unlock(&p->mu);
}

struct evd_slot *
evd_pipe_take(struct evd_pipe *p)
{
    struct evd_slot *s = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->head == p->tail && !p->done && !p->abort) {
        pthread_cond_wait(&p->cv_full, &p->mu);
    }
    if (!p->abort && p->head != p->tail) {
        s = &p->slots[p->tail % EVD_SLOTS];
    }
    pthread_mutex_unlock(&p->mu);
    return s;
}

void
evd_pipe_consumed(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->tail++;
    pthread_cond_signal(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

void
evd_pipe_abort(struct evd_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->abort = 1;
    pthread_cond_broadcast(&p->cv_full);
    pthread_cond_broadcast(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

enum dft_err
evidence_sweep(const char *objects_dir, size_t *removed, struct dft_error *err)
{
    size_t n = 0;
    DIR *d = opendir(objects_dir);
    if (d == NULL) {
        if (errno == ENOENT) {
            *removed = 0;
            return DFT_OK;
        }
        return dft_fail(err, DFT_ERR_IO, "cannot read '%s': %s", objects_dir, strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0) {
            continue;
        }
        /* unlinkat relative to the directory: a name cannot lead anywhere else */
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
            n++;
        }
    }
    closedir(d);
    *removed = n;
    return DFT_OK;
}
