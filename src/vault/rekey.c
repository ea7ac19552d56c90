/*
 * rekey.c - `defter passwd --rekey`: a new master key for a vault, crash-safe.
 *
 * A new master key gives new page, object and state keys: every database page is re-encrypted
 * and every evidence header rewrapped, so a copy of the old header with the old passphrase
 * opens nothing in the vault any more. The content keys stay (envelope seal key, dedup key: the
 * log's leaves are hashes of the sealed envelopes and the object ids are keyed hashes, so both
 * must outlive a rekey); they move into the database (table vault_content_keys, under the new
 * page key) and override the subkeys derived from the new master at every open.
 *
 * Procedure (docs/vault-format.md "Rekey"); the commit point is the atomic header replace:
 *   1. marker file rekey.pending (fsynced): an open runs recovery while it exists;
 *   2. vault.db.rekey: the database copied page by page (SQLite backup) under the new page key,
 *      checkpointed into one file and fsynced;
 *   3. objects/ab/<id>.rekey beside each object: its header rewrapped under the new object key;
 *   4. header.rekey: the new master wrapped under the new passphrase, the log state resealed;
 *   5. commit: rename header.rekey over header, fsync the directory;
 *   6. roll forward: drop the old WAL, rename vault.db.rekey over vault.db, copy each sidecar
 *      header over its object's header, remove the sidecars, then the marker.
 * Recovery (at open, with the keys the header on disk gives): a vault.db.rekey whose page 1
 * authenticates under the current page key is the live database (roll forward), else it is
 * dropped (roll back); likewise each sidecar opens under the current object key or is dropped.
 * An interrupted rekey therefore leaves the old vault or the new one, never neither.
 *
 * Must never remove the only copy of data the current header can open, nor leave plaintext.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "log/tlog.h"
#include "defter/vault.h"
#include "evidence/rekey.h"
#include "store/probe.h"
#include "vault/camouflage.h"
#include "vault/fsutil.h"
#include "vault/header.h"
#include "vault/rekey.h"
#include "vault/vault_internal.h"

#define PENDING    "rekey.pending"
#define SUFFIX     ".rekey"
#define HDR_BYTES  DFT_EVIDENCE_HEADER_BYTES
#define KEYS_TABLE "vault_content_keys"

/*
 * Test hook: DEFTER_TEST_REKEY_KILL=N sends SIGKILL to this process at the Nth step of a rekey
 * (tests/cli/rekey.sh walks N over every step). Unset in production: one getenv per step.
 */
static void
step(void)
{
    static long n;
    const char *at = getenv("DEFTER_TEST_REKEY_KILL");
    if (at != NULL && ++n == strtol(at, NULL, 10)) {
        (void)raise(SIGKILL);
    }
}

struct paths {
    char pending[PATH_MAX];
    char db_new[PATH_MAX];
    char wal[PATH_MAX];
    char wal_new[PATH_MAX];
    char header_new[PATH_MAX];
    char objects[PATH_MAX];
};

static enum dft_err
make_paths(const struct dft_vault *v, struct paths *p, struct dft_error *err)
{
    int bad =
        snprintf(p->pending, sizeof p->pending, "%s/%s", v->dir, PENDING) >=
            (int)sizeof p->pending ||
        snprintf(p->db_new, sizeof p->db_new, "%s%s", v->db_path, SUFFIX) >=
            (int)sizeof p->db_new ||
        snprintf(p->wal, sizeof p->wal, "%s-wal", v->db_path) >= (int)sizeof p->wal ||
        snprintf(p->wal_new, sizeof p->wal_new, "%s-wal", p->db_new) >= (int)sizeof p->wal_new ||
        snprintf(p->header_new, sizeof p->header_new, "%s%s", v->header_path, SUFFIX) >=
            (int)sizeof p->header_new ||
        vault_objects_path(v->dir, v->header_path, p->objects, sizeof p->objects, NULL) != DFT_OK;
    return bad ? dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long") : DFT_OK;
}

static int
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static enum dft_err
sync_dir(const char *dir, struct dft_error *err)
{
    return dft_fsync_dir_of(dir, 1, err);
}

static enum dft_err
write_file_sync(const char *path, const void *data, size_t n, struct dft_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    ssize_t w = n > 0 ? write(fd, data, n) : 0;
    int bad = w != (ssize_t)n || fsync(fd) != 0;
    int e = errno;
    close(fd);
    if (bad) {
        return dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, strerror(e ? e : EIO));
    }
    return DFT_OK;
}

/* ---- objects: call fn on every object file (objects/ab/<64 hex>) or sidecar ---- */

typedef enum dft_err (*object_fn)(const char *subdir, const char *name, void *ctx,
                                  struct dft_error *err);

static int
is_hex_name(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* sidecars: 1 walks "<hex>.rekey" files, 0 walks objects. Subdirectories are fsynced after. */
static enum dft_err
walk_objects(const char *objects, int sidecars, object_fn fn, void *ctx, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    DIR *d = opendir(objects);
    if (d == NULL) {
        return errno == ENOENT
                   ? DFT_OK
                   : dft_fail(err, DFT_ERR_IO, "cannot read '%s': %s", objects, strerror(errno));
    }
    struct dirent *e;
    while (rc == DFT_OK && (e = readdir(d)) != NULL) {
        char sub[PATH_MAX];
        if (strlen(e->d_name) != 2 || !is_hex_name(e->d_name, 2) ||
            snprintf(sub, sizeof sub, "%s/%s", objects, e->d_name) >= (int)sizeof sub) {
            continue;
        }
        DIR *sd = opendir(sub);
        if (sd == NULL) {
            continue;
        }
        struct dirent *f;
        int touched = 0;
        while (rc == DFT_OK && (f = readdir(sd)) != NULL) {
            size_t len = strlen(f->d_name);
            size_t want = 2 * DFT_OBJECT_ID_BYTES + (sidecars ? sizeof SUFFIX - 1 : 0);
            if (len != want || !is_hex_name(f->d_name, 2 * DFT_OBJECT_ID_BYTES) ||
                (sidecars && strcmp(f->d_name + 2 * DFT_OBJECT_ID_BYTES, SUFFIX) != 0)) {
                continue;
            }
            rc = fn(sub, f->d_name, ctx, err);
            touched = 1;
        }
        closedir(sd);
        if (rc == DFT_OK && touched) {
            rc = sync_dir(sub, err);
        }
    }
    closedir(d);
    return rc;
}

static enum dft_err
read_header_at(const char *path, unsigned char hdr[HDR_BYTES], struct dft_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    ssize_t r = pread(fd, hdr, HDR_BYTES, 0);
    close(fd);
    if (r != (ssize_t)HDR_BYTES) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "evidence object '%s' is truncated", path);
    }
    return DFT_OK;
}

struct rewrap_ctx {
    const unsigned char *old_key;
    const unsigned char *new_key;
    enum evidence_encoding enc; /* a camouflaged vault's objects all come out camouflaged */
};

/* Step 3: objects/ab/<id>.rekey = the header rewrapped under the new object key. */
static enum dft_err
write_sidecar(const char *sub, const char *name, void *ctx, struct dft_error *err)
{
    struct rewrap_ctx *c = ctx;
    unsigned char in[HDR_BYTES], out[HDR_BYTES];
    char path[PATH_MAX], side[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", sub, name) >= (int)sizeof path ||
        snprintf(side, sizeof side, "%s%s", path, SUFFIX) >= (int)sizeof side) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long");
    }
    enum dft_err rc = read_header_at(path, in, err);
    if (rc == DFT_OK && !evidence_header_opens(in, c->old_key)) {
        /* the other compartment's object (objects/ is shared): not this key's to rewrap, and
         * refusing would tell a decoy's user that other objects exist. A damaged object of
         * this compartment stays as unreadable as it was. */
        return DFT_OK;
    }
    if (rc == DFT_OK) {
        rc = evidence_header_rewrap_as(in, out, c->old_key, c->new_key, c->enc, err);
    }
    if (rc == DFT_OK) {
        rc = write_file_sync(side, out, sizeof out, err);
        step();
    }
    return rc;
}

/* Recovery and step 6: a sidecar that opens under the current key replaces its header. */
static enum dft_err
apply_sidecar(const char *sub, const char *name, void *ctx, struct dft_error *err)
{
    const unsigned char *object_key = ctx;
    unsigned char hdr[HDR_BYTES];
    char side[PATH_MAX], path[PATH_MAX];
    if (snprintf(side, sizeof side, "%s/%s", sub, name) >= (int)sizeof side ||
        snprintf(path, sizeof path, "%s/%.*s", sub, 2 * DFT_OBJECT_ID_BYTES, name) >=
            (int)sizeof path) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long");
    }
    if (read_header_at(side, hdr, NULL) == DFT_OK && evidence_header_opens(hdr, object_key) &&
        exists(path)) {
        int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            return dft_fail(err, DFT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        }
        int bad = pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr || fsync(fd) != 0;
        int e = errno;
        close(fd);
        if (bad) {
            return dft_fail(err, DFT_ERR_IO, "cannot write '%s': %s", path, strerror(e));
        }
        step();
    }
    /* applied, or from a rekey that never committed: either way it goes */
    if (unlink(side) != 0 && errno != ENOENT) {
        return dft_fail(err, DFT_ERR_IO, "cannot remove '%s': %s", side, strerror(errno));
    }
    return DFT_OK;
}

/*
 * Finish or undo an interrupted rekey, with the keys k of the header now on disk. The caller
 * holds the vault's directory lock, and no connection to its database is open.
 */
static enum dft_err
settle(const struct dft_vault *v, const struct dft_keys *k, const struct paths *p,
       struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unlink(p->header_new); /* never committed: the rename would have consumed it */
    if (exists(p->db_new)) {
        if (store_probe(p->db_new, k->page_key, k->vault_id)) {
            /* the header is the new one: the new database becomes the live one */
            if ((unlink(p->wal) != 0 && errno != ENOENT) || rename(p->db_new, v->db_path) != 0) {
                return dft_fail(err, DFT_ERR_IO, "cannot finish the rekey of '%s': %s", v->dir,
                                strerror(errno));
            }
            if ((rc = sync_dir(v->dir, err)) != DFT_OK) {
                return rc;
            }
            step();
        } else {
            unlink(p->wal_new);
            if (unlink(p->db_new) != 0 && errno != ENOENT) {
                return dft_fail(err, DFT_ERR_IO, "cannot undo the rekey of '%s': %s", v->dir,
                                strerror(errno));
            }
        }
    }
    unlink(p->wal_new);
    rc = walk_objects(p->objects, 1, apply_sidecar, (void *)(uintptr_t)k->object_key, err);
    if (rc == DFT_OK && unlink(p->pending) != 0 && errno != ENOENT) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot remove '%s': %s", p->pending, strerror(errno));
    }
    if (rc == DFT_OK) {
        rc = sync_dir(v->dir, err);
    }
    return rc;
}

enum dft_err
vault_rekey_recover(struct dft_vault *v, struct dft_error *err)
{
    struct paths p;
    int fd = -1;
    enum dft_err rc = make_paths(v, &p, err);
    if (rc != DFT_OK || !exists(p.pending)) {
        return rc;
    }
    if ((rc = vault_dir_lock(v, &fd, err)) != DFT_OK) {
        return rc;
    }
    if (exists(p.pending)) {
        rc = settle(v, v->keys, &p, err);
        if (rc == DFT_OK) {
            dft_log(DFT_LOG_INFO, "vault: settled an interrupted rekey");
        }
    }
    vault_dir_unlock(fd);
    return rc;
}

enum dft_err
vault_rekey_load_keys(struct dft_vault *v, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(v->db,
                           "SELECT seal_key, dedup_key FROM " KEYS_TABLE " WHERE id = 1 AND "
                           "EXISTS (SELECT 1 FROM sqlite_master WHERE name = '" KEYS_TABLE "')",
                           -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* no such table: a vault never rekeyed derives every subkey from its master */
        return DFT_OK;
    }
    enum dft_err e = DFT_OK;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != DFT_KEY_BYTES ||
            sqlite3_column_bytes(st, 1) != DFT_KEY_BYTES) {
            e = dft_fail(err, DFT_ERR_INTEGRITY, "vault content keys are damaged");
        } else {
            memcpy(v->keys->seal_key, sqlite3_column_blob(st, 0), DFT_KEY_BYTES);
            memcpy(v->keys->dedup_key, sqlite3_column_blob(st, 1), DFT_KEY_BYTES);
        }
    } else if (rc != SQLITE_DONE) {
        e = store_error(v->db, rc, "cannot read the vault content keys", err);
    }
    sqlite3_finalize(st);
    return e;
}

/* Step 2: the database under the new page key, with the content keys, in one fsynced file. */
static enum dft_err
copy_database(struct dft_vault *v, const struct dft_keys *nk, const struct paths *p,
              struct dft_error *err)
{
    sqlite3 *ndb = NULL;
    sqlite3_stmt *st = NULL;
    enum dft_err rc;
    unlink(p->wal_new);
    unlink(p->db_new);
    rc = store_open(&ndb, p->db_new, nk->page_key, nk->vault_id, DFT_STORE_CREATE, err);
    if (rc != DFT_OK) {
        return rc;
    }
    sqlite3_backup *b = sqlite3_backup_init(ndb, "main", v->db, "main");
    if (b == NULL) {
        rc = store_error(ndb, sqlite3_errcode(ndb), "cannot copy the vault database", err);
        goto out;
    }
    int brc = sqlite3_backup_step(b, -1);
    int frc = sqlite3_backup_finish(b);
    if (brc != SQLITE_DONE || frc != SQLITE_OK) {
        rc =
            store_error(ndb, brc != SQLITE_DONE ? brc : frc, "cannot copy the vault database", err);
        goto out;
    }
    if ((rc = store_exec(ndb,
                         "CREATE TABLE IF NOT EXISTS " KEYS_TABLE
                         "(id INTEGER PRIMARY KEY CHECK (id = 1), seal_key BLOB NOT NULL, "
                         "dedup_key BLOB NOT NULL)",
                         err)) != DFT_OK) {
        goto out;
    }
    int qrc = sqlite3_prepare_v2(ndb, "INSERT OR REPLACE INTO " KEYS_TABLE " VALUES (1, ?, ?)", -1,
                                 &st, NULL);
    if (qrc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, nk->seal_key, DFT_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, nk->dedup_key, DFT_KEY_BYTES, SQLITE_STATIC);
        qrc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(ndb);
    }
    sqlite3_finalize(st);
    if (qrc != SQLITE_OK) {
        rc = store_error(ndb, qrc, "cannot store the vault content keys", err);
        goto out;
    }
    /* everything into the main file: the new database must stand alone when it is renamed */
    rc = store_exec(ndb, "PRAGMA wal_checkpoint(TRUNCATE)", err);
out:
    store_close(ndb);
    if (rc == DFT_OK && exists(p->wal_new)) {
        /* close checkpoints and removes the WAL; one left means the checkpoint did not finish */
        rc = dft_fail(err, DFT_ERR_IO, "cannot finish the copy of the vault database");
    }
    if (rc == DFT_OK) {
        int fd = open(p->db_new, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) {
            rc = dft_fail(err, DFT_ERR_IO, "cannot sync '%s': %s", p->db_new, strerror(errno));
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    if (rc != DFT_OK) {
        unlink(p->wal_new);
        unlink(p->db_new);
    }
    return rc;
}

enum dft_err
dft_vault_rekey_master(struct dft_vault *v, const char *new_pass, size_t new_len,
                       enum dft_kdf_level level, struct dft_error *err)
{
    struct paths p;
    struct dft_keys *nk = NULL;
    struct dft_header h;
    struct dft_header disk;
    struct dft_tlog_state state;
    int fd = -1;
    int committed = 0;
    enum dft_err rc;

    if (new_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the passphrase is empty");
    }
    if ((rc = make_paths(v, &p, err)) != DFT_OK) {
        return rc;
    }
    nk = keys_new();
    if (nk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if ((rc = vault_dir_lock(v, &fd, err)) != DFT_OK) {
        keys_free(nk);
        return rc;
    }
    /* New master; identity and vault id kept; content keys carried over (see the top). */
    randombytes_buf(nk->master, DFT_KEY_BYTES);
    memcpy(nk->sign_sk, v->keys->sign_sk, DFT_SIGN_SK_BYTES);
    memcpy(nk->sign_pk, v->keys->sign_pk, DFT_SIGN_PK_BYTES);
    memcpy(nk->box_sk, v->keys->box_sk, DFT_BOX_SK_BYTES);
    memcpy(nk->box_pk, v->keys->box_pk, DFT_BOX_PK_BYTES);
    memcpy(nk->vault_id, v->keys->vault_id, DFT_VAULT_ID_BYTES);
    keys_derive(nk);
    memcpy(nk->seal_key, v->keys->seal_key, DFT_KEY_BYTES);
    memcpy(nk->dedup_key, v->keys->dedup_key, DFT_KEY_BYTES);

    /* The log state sealed in the header on disk, resealed under the new state key. */
    /* The slots as they are on disk now (other compartment, spares, states), this one's known. */
    if ((rc = header_read(&disk, v->header_path, err)) != DFT_OK ||
        (rc = header_attach(&disk, &v->header, err)) != DFT_OK) {
        goto out;
    }
    h = disk;
    if (disk.state_len != 0) {
        if ((rc = tlog_state_open(&state, disk.state, disk.state_len, v->keys->state_key,
                                  v->keys->vault_id, err)) != DFT_OK) {
            goto out;
        }
        tlog_state_seal(h.state, &state, nk->state_key, nk->vault_id);
        h.state_len = DFT_TLOG_STATE_BYTES;
    } else {
        h.state_len = 0;
    }

    /* 1. */
    if ((rc = write_file_sync(p.pending, "rekey\n", 6, err)) != DFT_OK ||
        (rc = sync_dir(v->dir, err)) != DFT_OK) {
        goto out;
    }
    step();
    /* 2. */
    if ((rc = copy_database(v, nk, &p, err)) != DFT_OK) {
        goto out;
    }
    step();
    /* 3. */
    struct vault_layout lay;
    vault_layout_of_header(v->header_path, &lay);
    struct rewrap_ctx rw = {v->keys->object_key, nk->object_key,
                            lay.stem[0] != '\0' ? EVIDENCE_ENC_CAMOUFLAGED : EVIDENCE_ENC_KEEP};
    if ((rc = walk_objects(p.objects, 0, write_sidecar, &rw, err)) != DFT_OK) {
        goto out;
    }
    /* 4. */
    if ((rc = header_wrap(&h, nk, new_pass, new_len, level, err)) != DFT_OK ||
        (rc = header_write(&h, p.header_new, err)) != DFT_OK) {
        goto out;
    }
    step();
    /* The old connection goes before the files move under it. */
    store_close(v->db);
    v->db = NULL;
    /* 5. The commit point. */
    if (rename(p.header_new, v->header_path) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot replace the vault header: %s", strerror(errno));
        goto out;
    }
    committed = 1;
    if ((rc = sync_dir(v->dir, err)) != DFT_OK) {
        goto out;
    }
    step();
    /* 6. */
    rc = settle(v, nk, &p, err);
out:
    if (!committed) {
        /* undo with the old keys: the new files cannot be opened by the header on disk */
        struct dft_error ignored = {0};
        (void)settle(v, v->keys, &p, &ignored);
    }
    if (committed) {
        struct dft_keys *old = v->keys;
        v->keys = nk;
        nk = old;
        v->header = h;
    }
    vault_dir_unlock(fd);
    keys_free(nk);
    sodium_memzero(&h, sizeof h);
    sodium_memzero(&disk, sizeof disk);
    sodium_memzero(&state, sizeof state);
    return rc;
}
