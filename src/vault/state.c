/*
 * state.c - keep the transparency log's latest size and root sealed in the vault header, and
 * refuse a database that is older than the header (rolled back or replaced).
 *
 * Order of writes: the database commits first, the header follows. A crash in between leaves
 * the database ahead of the header, which is fine (the header proves a lower bound) and is
 * caught up at the next open or write. Header updates happen under an exclusive flock on the
 * vault directory, re-read the header from disk and never lower the sealed size, so concurrent
 * writers and a concurrent passphrase change cannot undo each other. This file never lets a
 * state it could not authenticate pass, and never makes an acknowledged write fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sodium.h>

#include "store/store.h"
#include "log/tlog.h"
#include "vault/vault_internal.h"

_Static_assert(DFT_TLOG_STATE_BYTES <= DFT_HEADER_STATE_MAX, "sealed state fits the header");
_Static_assert(DFT_TLOG_STATE_ID_BYTES == DFT_VAULT_ID_BYTES, "state is bound to the vault id");

enum dft_err
vault_dir_lock(struct dft_vault *v, int *fd_out, struct dft_error *err)
{
    int fd = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot open '%s': %s", v->dir, strerror(errno));
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return dft_fail(err, DFT_ERR_IO, "cannot lock '%s': %s", v->dir, strerror(e));
        }
    }
    *fd_out = fd;
    return DFT_OK;
}

void
vault_dir_unlock(int fd)
{
    if (fd >= 0) {
        (void)flock(fd, LOCK_UN);
        close(fd);
    }
}

/* The header on disk, checked to be this vault's (another vault's header is not ours to edit). */
static enum dft_err
read_own_header(struct dft_vault *v, struct dft_header *h, struct dft_error *err)
{
    enum dft_err rc = header_read(h, v->header_path, err);
    if (rc == DFT_OK) {
        rc = header_attach(h, &v->header, err); /* find this compartment's state cell */
    }
    if (rc != DFT_OK) {
        return rc;
    }
    if (sodium_memcmp(h->vault_id, v->keys->vault_id, DFT_VAULT_ID_BYTES) != 0 ||
        sodium_memcmp(h->sign_pk, v->keys->sign_pk, DFT_SIGN_PK_BYTES) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "the vault header was replaced by another vault's");
    }
    return DFT_OK;
}

enum dft_err
vault_state_save(struct dft_vault *v, const struct dft_tlog_state *st, struct dft_error *err)
{
    int fd = -1;
    struct dft_header h;
    struct dft_tlog_state disk;
    enum dft_err rc = vault_dir_lock(v, &fd, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if ((rc = read_own_header(v, &h, err)) != DFT_OK) {
        goto out;
    }
    if (h.state_len != 0) {
        rc = tlog_state_open(&disk, h.state, h.state_len, v->keys->state_key, v->keys->vault_id,
                             err);
        if (rc != DFT_OK) {
            goto out;
        }
        if (disk.size >= st->size) {
            v->header = h; /* someone else sealed as much or more: nothing to do */
            goto out;
        }
    }
    tlog_state_seal(h.state, st, v->keys->state_key, v->keys->vault_id);
    h.state_len = DFT_TLOG_STATE_BYTES;
    if ((rc = header_write(&h, v->header_path, err)) == DFT_OK) {
        v->header = h;
    }
out:
    vault_dir_unlock(fd);
    sodium_memzero(&h, sizeof h);
    return rc;
}

/* Seal st after a commit or an open; a failure is logged, never returned (the data is safe). */
void
vault_state_catch_up(struct dft_vault *v, const struct dft_tlog_state *st)
{
    struct dft_error e = {0};
    if (vault_state_save(v, st, &e) != DFT_OK) {
        dft_log(DFT_LOG_WARN, "cannot seal log size %llu into the vault header: %s",
                (unsigned long long)st->size, e.msg);
    }
}

enum dft_err
vault_state_check(struct dft_vault *v, struct dft_error *err)
{
    struct dft_tlog_state sealed, current;
    int marked = 0;
    enum dft_err rc = tlog_state_marked(v->db, &marked, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (v->header.state_len == 0) {
        if (marked) {
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "the vault header has lost its sealed log state: rolled back or "
                            "replaced");
        }
        /* A vault from before sealed states: seal what it has now, then mark the database. */
        sealed.size = 0;
        tlog_hash_empty(sealed.root);
    } else if ((rc = tlog_state_open(&sealed, v->header.state, v->header.state_len,
                                     v->keys->state_key, v->keys->vault_id, err)) != DFT_OK) {
        return rc;
    }
    if ((rc = tlog_state_check(v->db, &sealed, &current, err)) != DFT_OK) {
        return rc;
    }
    if (current.size > sealed.size || v->header.state_len == 0) {
        vault_state_catch_up(v, &current);
    }
    if (!marked && v->header.state_len != 0) {
        struct dft_error e = {0};
        if (tlog_state_mark(v->db, &e) != DFT_OK) {
            dft_log(DFT_LOG_WARN, "cannot mark the database as sealed: %s", e.msg);
        }
    }
    return DFT_OK;
}
