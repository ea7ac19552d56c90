/*
 * panic.c - wipe a vault's keys without its passphrase, in time that does not grow with it.
 *
 * Every byte of the header file (both copies: the salt, every key slot, the sealed log states)
 * is overwritten in place with random bytes and fsynced; so is a header.tmp left by a version-1
 * write. The data stays as ciphertext nobody can open. A process holding the vault's database
 * lock (a running `defter ui` or command) is frozen first, so it cannot write a header back,
 * and killed after the wipe is durable. Never reads or needs a key; never deletes data.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "defter/coercion.h"
#include "vault/camouflage.h"
#include "vault/fsutil.h"
#include "vault/header.h"

/* SQLite's unix VFS locks bytes from 2^30 (PENDING, RESERVED, then the SHARED range). */
#define SQLITE_LOCK_START 0x40000000
#define SQLITE_LOCK_LEN   512

/* The pid of another process holding a lock on the database, or 0. */
static pid_t
db_holder(const char *db)
{
    int fd = open(db, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    struct flock fl = {.l_type = F_WRLCK,
                       .l_whence = SEEK_SET,
                       .l_start = SQLITE_LOCK_START,
                       .l_len = SQLITE_LOCK_LEN};
    pid_t pid = 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid > 0 &&
        fl.l_pid != getpid()) {
        pid = fl.l_pid;
    }
    close(fd);
    return pid;
}

/*
 * The pid of another process with db open, found through /proc (same user only): SQLite holds
 * its lock bytes only while it reads or writes, so an idle `defter ui` may hold none. 0: none.
 */
static pid_t
db_opener(const char *db)
{
    struct stat want;
    if (stat(db, &want) != 0) {
        return 0;
    }
    DIR *proc = opendir("/proc");
    if (proc == NULL) {
        return 0;
    }
    pid_t found = 0;
    struct dirent *e;
    while (found == 0 && (e = readdir(proc)) != NULL) {
        char *end = NULL;
        long pid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || pid <= 0 || pid == (long)getpid()) {
            continue;
        }
        char fddir[64];
        snprintf(fddir, sizeof fddir, "/proc/%ld/fd", pid);
        DIR *fds = opendir(fddir); /* another user's: EACCES, skipped */
        if (fds == NULL) {
            continue;
        }
        struct dirent *f;
        while (found == 0 && (f = readdir(fds)) != NULL) {
            char link[320];
            struct stat st;
            snprintf(link, sizeof link, "%s/%s", fddir, f->d_name);
            if (f->d_name[0] != '.' && stat(link, &st) == 0 && st.st_dev == want.st_dev &&
                st.st_ino == want.st_ino) {
                found = (pid_t)pid;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}

/* Overwrite the whole file in place with random bytes and fsync it; 0 when absent. */
static enum dft_err
overwrite(const char *path, int *copies, struct dft_error *err)
{
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return DFT_ERR_NOT_FOUND;
        }
        return dft_fail(err, DFT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    struct stat st;
    unsigned char buf[DFT_HEADER_MAX_BYTES];
    enum dft_err rc = DFT_OK;
    if (fstat(fd, &st) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
        goto out;
    }
    /*
     * The KDF level hides in the salt's last byte (mod 3, docs/vault-format.md): keep it, so a
     * passphrase typed later costs the same time as before and still opens nothing.
     */
    unsigned char lvl = 0;
    int keep = st.st_size >= HEADER_FILE_BYTES &&
               pread(fd, &lvl, 1, DFT_HEADER_SALT_BYTES - 1) == 1 && lvl != 255;
    for (off_t off = 0; off < st.st_size;) {
        size_t n = sizeof buf;
        if ((off_t)n > st.st_size - off) {
            n = (size_t)(st.st_size - off);
        }
        randombytes_buf(buf, n);
        for (int c = 0; keep && c < 2; c++) {
            off_t at = (off_t)c * HEADER_IMAGE_BYTES + DFT_HEADER_SALT_BYTES - 1;
            if (at >= off && at < off + (off_t)n) {
                buf[at - off] = (unsigned char)(randombytes_uniform(85) * 3 + lvl % 3);
            }
        }
        ssize_t w = pwrite(fd, buf, n, off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot overwrite '%s': %s", path, strerror(errno));
            goto out;
        }
        off += w;
    }
    if (fsync(fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot sync '%s': %s", path, strerror(errno));
        goto out;
    }
    *copies += st.st_size >= HEADER_FILE_BYTES ? 2 : 1;
out:
    close(fd);
    return rc;
}

enum dft_err
dft_vault_panic(const char *dir, struct dft_panic_result *res, struct dft_error *err)
{
    char header[PATH_MAX], tmp[PATH_MAX + 8], db[PATH_MAX];
    struct vault_layout l;
    enum dft_err rc;
    memset(res, 0, sizeof *res);
    if ((rc = vault_layout_find(dir, &l, err)) != DFT_OK ||
        (rc = vault_layout_path(&l, dir, VAULT_FILE_HEADER, header, sizeof header, err)) !=
            DFT_OK ||
        (rc = vault_layout_path(&l, dir, VAULT_FILE_DB0, db, sizeof db, err)) != DFT_OK) {
        return rc;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", header);
    /* Freeze whoever holds the vault (either compartment), so no header write of theirs lands
     * after ours. */
    pid_t holder = db_holder(db);
    if (holder == 0) {
        char db1[PATH_MAX];
        if (vault_layout_path(&l, dir, VAULT_FILE_DB1, db1, sizeof db1, NULL) == DFT_OK) {
            holder = db_holder(db1);
        }
    }
    if (holder == 0) {
        holder = db_opener(db);
    }
    if (holder == 0) {
        char db1[PATH_MAX];
        if (vault_layout_path(&l, dir, VAULT_FILE_DB1, db1, sizeof db1, NULL) == DFT_OK) {
            holder = db_opener(db1);
        }
    }
    if (holder > 0 && kill(holder, SIGSTOP) != 0) {
        holder = 0;
    }
    rc = overwrite(header, &res->copies, err);
    if (rc == DFT_ERR_NOT_FOUND) {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND, "no vault at '%s'", dir);
    }
    if (rc == DFT_OK) {
        enum dft_err t = overwrite(tmp, &res->copies, err);
        if (t != DFT_OK && t != DFT_ERR_NOT_FOUND) {
            rc = t;
        }
    }
    if (rc == DFT_OK) {
        rc = dft_fsync_dir_of(dir, 1, err);
    }
    if (holder > 0) {
        /* Its keys go with it: a frozen process cannot be asked to wipe, and must not write. */
        (void)kill(holder, SIGKILL);
        res->stopped = (long)holder;
    }
    return rc;
}
