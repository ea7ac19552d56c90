/*
 * witness_store.c - the witness's key, its SQLite state and the add-checkpoint decision
 * (c2sp.org/tlog-witness): which logs it trusts, the last checkpoint it cosigned for each, and
 * the forks it has seen.
 *
 * The last size of a log only ever grows: it is read, checked and replaced under one mutex in
 * one IMMEDIATE transaction, and a cosignature leaves this file only after that transaction
 * committed with synchronous=FULL. This file must never cosign a checkpoint that does not
 * extend the stored one, nor sign with a key file others can read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/keys.h"
#include "defter/crypto.h"
#include "log/witness_req.h"
#include "server/witness.h"
#include "server/witness_internal.h"

#define SCHEMA                                                                                     \
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"                        \
    "CREATE TABLE IF NOT EXISTS logs(origin TEXT PRIMARY KEY, origin_hash TEXT NOT NULL UNIQUE,"   \
    " vkey TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, root BLOB, note BLOB,"                  \
    " updated TEXT);"                                                                              \
    "CREATE TABLE IF NOT EXISTS forks(id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"               \
    " received TEXT NOT NULL, stored_size INTEGER NOT NULL, old_size INTEGER NOT NULL,"            \
    " size INTEGER NOT NULL, reason TEXT NOT NULL, request BLOB NOT NULL);"

static enum dft_err
path_join(char out[PATH_MAX], const char *dir, const char *file, struct dft_error *err)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);
    if (n < 0 || n >= PATH_MAX) {
        return dft_fail(err, DFT_ERR_INPUT, "witness directory path is too long");
    }
    return DFT_OK;
}

static enum dft_err
db_open(sqlite3 **db, const char *dir, int create, struct dft_error *err)
{
    char path[PATH_MAX];
    enum dft_err rc = path_join(path, dir, WITNESS_DB_FILE, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int src = sqlite3_open_v2(path, db, flags, NULL);
    if (src != SQLITE_OK) {
        sqlite3_close(*db);
        *db = NULL;
        return dft_fail(err, create ? DFT_ERR_IO : DFT_ERR_NOT_FOUND,
                        "cannot open the witness database in '%s' (run defter witness init)", dir);
    }
    sqlite3_busy_timeout(*db, 10000);
    char *msg = NULL;
    src = sqlite3_exec(*db,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                       "PRAGMA temp_store=MEMORY;" SCHEMA,
                       NULL, NULL, &msg);
    if (src != SQLITE_OK) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot set up the witness database: %s",
                      msg != NULL ? msg : sqlite3_errstr(src));
        sqlite3_free(msg);
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    return DFT_OK;
}

static enum dft_err
meta_get(sqlite3 *db, const char *k, char *out, size_t out_max, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err rc = DFT_OK;
    int src = sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = ?1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) < out_max) {
        memcpy(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0) + 1);
    } else {
        rc = dft_fail(err, DFT_ERR_NOT_FOUND,
                      "the witness database has no %s (run defter "
                      "witness init)",
                      k);
    }
    sqlite3_finalize(st);
    return rc;
}

enum dft_err
witness_init(const char *dir, const char *name, char vkey[DFT_NOTE_VKEY_MAX], struct dft_error *err)
{
    char path[PATH_MAX];
    unsigned char seed[32], pk[32];
    unsigned char *sk = NULL;
    struct dft_note_verifier v;
    sqlite3 *db = NULL;
    int fd = -1;
    enum dft_err rc = DFT_OK;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", dir, strerror(errno));
    }
    if ((rc = path_join(path, dir, WITNESS_KEY_FILE, err)) != DFT_OK) {
        return rc;
    }
    sk = sodium_malloc(64);
    if (sk == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    if ((rc = note_verifier_init(&v, name, DFT_NOTE_ALG_COSIG_V1, pk, err)) != DFT_OK) {
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = dft_fail(err, errno == EEXIST ? DFT_ERR_INPUT : DFT_ERR_IO,
                      errno == EEXIST ? "'%s' already holds a witness key"
                                      : "cannot create the witness key in '%s'",
                      dir);
        goto out;
    }
    if (write(fd, seed, sizeof seed) != (ssize_t)sizeof seed || fsync(fd) != 0) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write the witness key: %s", strerror(errno));
        (void)unlink(path);
        goto out;
    }
    note_verifier_format(&v, vkey);
    if ((rc = db_open(&db, dir, 1, err)) != DFT_OK) {
        (void)unlink(path);
        goto out;
    }
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db,
                                 "INSERT OR REPLACE INTO meta(k, v) VALUES ('name', ?1),"
                                 " ('vkey', ?2)",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, v.name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, vkey, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write the witness database");
        (void)unlink(path);
    }
out:
    if (fd >= 0) {
        close(fd);
    }
    sqlite3_close(db);
    sodium_memzero(seed, sizeof seed);
    sodium_free(sk);
    return rc;
}

enum dft_err
witness_vkey(const char *dir, char vkey[DFT_NOTE_VKEY_MAX], struct dft_error *err)
{
    sqlite3 *db = NULL;
    enum dft_err rc = db_open(&db, dir, 0, err);
    if (rc == DFT_OK) {
        rc = meta_get(db, "vkey", vkey, DFT_NOTE_VKEY_MAX, err);
    }
    sqlite3_close(db);
    return rc;
}

static void
origin_hash_hex(char out[65], const char *origin)
{
    unsigned char h[32];
    crypto_sha256_once(h, origin, strlen(origin));
    dft_hex_encode(out, h, 32);
}

enum dft_err
witness_trust(const char *dir, const char *origin, const char *vkey, struct dft_error *err)
{
    struct dft_note_verifier v;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char hex[65];
    enum dft_err rc = note_verifier_parse(&v, vkey, strlen(vkey), err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (v.alg != DFT_NOTE_ALG_ED25519) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "'%s' is not a log key: a checkpoint key has type 0x01, this one 0x%02x",
                        v.name, (unsigned)v.alg);
    }
    if (strcmp(v.name, origin) != 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the key's name '%s' is not the origin '%.255s'",
                        v.name, origin);
    }
    if ((rc = db_open(&db, dir, 0, err)) != DFT_OK) {
        return rc;
    }
    char canon[DFT_NOTE_VKEY_MAX];
    note_verifier_format(&v, canon);
    origin_hash_hex(hex, origin);
    int src = sqlite3_prepare_v2(db, "SELECT vkey FROM logs WHERE origin = ?1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 0), canon) != 0) {
            rc = dft_fail(err, DFT_ERR_INPUT, "origin '%s' is already trusted with another key",
                          origin);
        }
        goto out; /* the same key again changes nothing */
    }
    sqlite3_finalize(st);
    st = NULL;
    src = sqlite3_prepare_v2(db, "INSERT INTO logs(origin, origin_hash, vkey) VALUES (?1, ?2, ?3)",
                             -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, canon, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src != SQLITE_DONE) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot write the witness database: %s", sqlite3_errmsg(db));
    }
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

enum dft_err
witness_logs(const char *dir, json_t **out, struct dft_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = db_open(&db, dir, 0, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *list = json_array();
    int src = sqlite3_prepare_v2(db, "SELECT origin, size, vkey FROM logs ORDER BY origin", -1, &st,
                                 NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(list, json_pack("{sssIss}", "origin", sqlite3_column_text(st, 0),
                                              "size", (json_int_t)sqlite3_column_int64(st, 1),
                                              "vkey", sqlite3_column_text(st, 2)));
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (src != SQLITE_DONE) {
        json_decref(list);
        return dft_fail(err, DFT_ERR_IO, "cannot read the witness database");
    }
    *out = json_pack("{so}", "logs", list);
    return DFT_OK;
}

enum dft_err
witness_forks(const char *dir, json_t **out, struct dft_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    enum dft_err rc = db_open(&db, dir, 0, err);
    if (rc != DFT_OK) {
        return rc;
    }
    json_t *list = json_array();
    int src = sqlite3_prepare_v2(db,
                                 "SELECT id, origin, received, stored_size, old_size, size, reason,"
                                 " request FROM forks ORDER BY id",
                                 -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct witness_req r;
        const char *body = sqlite3_column_blob(st, 7);
        size_t len = (size_t)sqlite3_column_bytes(st, 7);
        json_t *ck = json_null();
        if (body != NULL && witness_req_parse(&r, body, len, NULL) == DFT_OK) {
            ck = json_stringn(r.note, r.note_len);
        }
        json_array_append_new(list, json_pack("{sIsssssIsIsIssso}", "id",
                                              (json_int_t)sqlite3_column_int64(st, 0), "origin",
                                              sqlite3_column_text(st, 1), "received",
                                              sqlite3_column_text(st, 2), "stored_size",
                                              (json_int_t)sqlite3_column_int64(st, 3), "old_size",
                                              (json_int_t)sqlite3_column_int64(st, 4), "size",
                                              (json_int_t)sqlite3_column_int64(st, 5), "reason",
                                              sqlite3_column_text(st, 6), "checkpoint", ck));
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (src != SQLITE_DONE) {
        json_decref(list);
        return dft_fail(err, DFT_ERR_IO, "cannot read the witness database");
    }
    *out = json_pack("{so}", "forks", list);
    return DFT_OK;
}

/* ---- the running store ---- */

static enum dft_err
load_key(struct witness_store *ws, const char *dir, struct dft_error *err)
{
    char path[PATH_MAX];
    unsigned char seed[33], pk[32];
    struct stat sb;
    enum dft_err rc = path_join(path, dir, WITNESS_KEY_FILE, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "cannot open the witness key in '%s': %s", dir,
                        strerror(errno));
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return dft_fail(err, DFT_ERR_INPUT, "the witness key in '%s' is not a regular file", dir);
    }
    if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
        close(fd);
        return dft_fail(err, DFT_ERR_INPUT,
                        "the witness key '%s' is readable by others or not yours (mode %03o): "
                        "chmod 600 it",
                        path, (unsigned)(sb.st_mode & 0777));
    }
    ssize_t got = read(fd, seed, sizeof seed);
    close(fd);
    if (got != 32) {
        sodium_memzero(seed, sizeof seed);
        return dft_fail(err, DFT_ERR_INTEGRITY, "the witness key in '%s' is damaged", dir);
    }
    ws->sk = sodium_malloc(64);
    if (ws->sk == NULL) {
        sodium_memzero(seed, sizeof seed);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    crypto_sign_seed_keypair(pk, ws->sk, seed);
    sodium_memzero(seed, sizeof seed);
    (void)sodium_mprotect_readonly(ws->sk);
    if (sodium_memcmp(pk, ws->self.pub, 32) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "the witness key in '%s' does not match its database's vkey", dir);
    }
    return DFT_OK;
}

enum dft_err
witness_store_open(struct witness_store *ws, const char *dir, struct dft_error *err)
{
    memset(ws, 0, sizeof *ws);
    enum dft_err rc = db_open(&ws->db, dir, 0, err);
    if (rc == DFT_OK) {
        rc = meta_get(ws->db, "vkey", ws->vkey, sizeof ws->vkey, err);
    }
    if (rc == DFT_OK) {
        rc = note_verifier_parse(&ws->self, ws->vkey, strlen(ws->vkey), err);
    }
    if (rc == DFT_OK) {
        rc = load_key(ws, dir, err);
    }
    if (rc == DFT_OK && pthread_mutex_init(&ws->mu, NULL) != 0) {
        rc = dft_fail(err, DFT_ERR_INTERNAL, "cannot create a mutex");
    }
    if (rc != DFT_OK) {
        sqlite3_close(ws->db);
        sodium_free(ws->sk);
        memset(ws, 0, sizeof *ws);
    }
    return rc;
}

void
witness_store_close(struct witness_store *ws)
{
    if (ws->db == NULL) {
        return;
    }
    sqlite3_close(ws->db);
    sodium_free(ws->sk);
    pthread_mutex_destroy(&ws->mu);
    memset(ws, 0, sizeof *ws);
}

static void
answer(struct witness_answer *a, unsigned status, const char *text)
{
    a->status = status;
    a->ctype = "text/plain; charset=utf-8";
    dft_buf_reset(&a->body);
    if (dft_buf_adds(&a->body, text) != DFT_OK || dft_buf_add(&a->body, "\n", 1) != DFT_OK) {
        a->status = 500;
    }
}

/* The trusted key of origin into v: 1 found, 0 unknown, -1 database error. Under ws->mu. */
static int
log_key(struct witness_store *ws, const char *origin, struct dft_note_verifier *v)
{
    sqlite3_stmt *st = NULL;
    int found = -1;
    int src = sqlite3_prepare_v2(ws->db, "SELECT vkey FROM logs WHERE origin = ?1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW) {
        const char *vk = (const char *)sqlite3_column_text(st, 0);
        found = vk != NULL && note_verifier_parse(v, vk, strlen(vk), NULL) == DFT_OK ? 1 : -1;
    } else if (src == SQLITE_DONE) {
        found = 0;
    }
    sqlite3_finalize(st);
    return found;
}

static int
exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
store_fork(struct witness_store *ws, const char *origin, uint64_t stored, uint64_t old,
           uint64_t size, const char *reason, const char *body, size_t len)
{
    char ts[DFT_TS_BYTES];
    sqlite3_stmt *st = NULL;
    dft_time_now(ts);
    int src = sqlite3_prepare_v2(ws->db,
                                 "INSERT INTO forks(origin, received, stored_size, old_size, size,"
                                 " reason, request) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)stored);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)old);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)size);
        sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, body, (int)len, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? 0 : -1;
}

/* A line of n by v (NULL when none). */
static const struct dft_note_sig *
sig_of(const struct dft_note *n, const struct dft_note_verifier *v)
{
    size_t name_len = strlen(v->name);
    for (size_t i = 0; i < n->nsigs; i++) {
        if (n->sigs[i].key_id == v->key_id && n->sigs[i].name_len == name_len &&
            memcmp(n->sigs[i].name, v->name, name_len) == 0) {
            return &n->sigs[i];
        }
    }
    return NULL;
}

/*
 * Under ws->mu, in a transaction: check the request against the stored state and either store
 * the new checkpoint with its cosignature (200), or record a fork (422), or answer 409.
 */
static void
check_and_update(struct witness_store *ws, const struct witness_req *r, const struct dft_note *n,
                 const struct dft_checkpoint *c, const struct dft_note_verifier *logv,
                 const char *body, size_t len, struct witness_answer *a)
{
    sqlite3_stmt *st = NULL;
    uint64_t stored = 0;
    unsigned char stored_root[32];
    int have_root = 0;
    const char *fork = NULL;
    struct dft_buf note, line;
    dft_buf_init(&note, DFT_NOTE_MAX_BYTES + 512, 0);
    dft_buf_init(&line, 1024, 0);

    if (exec(ws->db, "BEGIN IMMEDIATE") != 0) {
        answer(a, 503, "witness database is busy");
        a->retry_after = 1;
        goto out;
    }
    int src =
        sqlite3_prepare_v2(ws->db, "SELECT size, root FROM logs WHERE origin = ?1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, c->origin, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src != SQLITE_ROW) {
        answer(a, 500, "cannot read the witness database");
        goto rollback;
    }
    stored = (uint64_t)sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) == 32) {
        memcpy(stored_root, sqlite3_column_blob(st, 1), 32);
        have_root = 1;
    }
    sqlite3_finalize(st);
    st = NULL;

    if (r->old_size != stored) {
        char size[24];
        snprintf(size, sizeof size, "%llu", (unsigned long long)stored);
        answer(a, 409, size);
        a->ctype = "text/x.tlog.size";
        goto rollback;
    }
    unsigned char empty[32];
    tlog_hash_empty(empty);
    if (c->size == 0 && sodium_memcmp(c->root, empty, 32) != 0) {
        fork = "a checkpoint of size 0 without the empty tree's root";
    } else if (r->old_size == 0 && r->nproof != 0) {
        fork = "a consistency proof from size 0";
    } else if (r->old_size == c->size && r->old_size != 0) {
        if (r->nproof != 0) {
            fork = "a consistency proof between equal sizes";
        } else if (!have_root || sodium_memcmp(stored_root, c->root, 32) != 0) {
            fork = "the same size as the last cosigned checkpoint with another root";
        }
    } else if (r->old_size != 0) {
        if (!have_root || tlog_verify_consistency(r->old_size, c->size, stored_root, c->root,
                                                  r->proof, r->nproof, NULL) != DFT_OK) {
            fork = "a consistency proof that does not verify";
        }
    }
    if (fork != NULL) {
        if (store_fork(ws, c->origin, stored, r->old_size, c->size, fork, body, len) != 0 ||
            exec(ws->db, "COMMIT") != 0) {
            answer(a, 500, "cannot record the fork");
            goto rollback;
        }
        char msg[160];
        snprintf(msg, sizeof msg, "checkpoint refused: %s (kept as evidence)", fork);
        answer(a, 422, msg);
        goto out;
    }

    /* Cosign, then make the new state durable before anyone sees the cosignature. */
    uint64_t now = (uint64_t)time(NULL);
    const struct dft_note_sig *ls = sig_of(n, logv);
    if (note_cosign_line(&line, n->text, n->text_len, ws->self.name, ws->sk, now > 0 ? now : 1,
                         NULL) != DFT_OK ||
        dft_buf_add(&note, n->text, n->text_len) != DFT_OK ||
        dft_buf_add(&note, "\n", 1) != DFT_OK ||
        dft_buf_add(&note, ls->line, ls->line_len) != DFT_OK ||
        dft_buf_add(&note, line.data, line.len) != DFT_OK) {
        answer(a, 500, "cannot cosign");
        goto rollback;
    }
    char ts[DFT_TS_BYTES];
    dft_time_now(ts);
    src = sqlite3_prepare_v2(ws->db,
                             "UPDATE logs SET size = ?2, root = ?3, note = ?4, updated = ?5"
                             " WHERE origin = ?1",
                             -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, c->origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)c->size);
        sqlite3_bind_blob(st, 3, c->root, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, note.data, (int)note.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (src != SQLITE_DONE || exec(ws->db, "COMMIT") != 0) {
        dft_log(DFT_LOG_ERROR, "witness: cannot store a checkpoint: %s", sqlite3_errmsg(ws->db));
        answer(a, 500, "cannot store the checkpoint");
        goto rollback;
    }
    a->status = 200;
    a->ctype = "text/plain; charset=utf-8";
    dft_buf_reset(&a->body);
    if (dft_buf_add(&a->body, line.data, line.len) != DFT_OK) {
        a->status = 500;
    }
    goto out;
rollback:
    sqlite3_finalize(st);
    (void)exec(ws->db, "ROLLBACK");
out:
    dft_buf_release(&note);
    dft_buf_release(&line);
}

void
witness_store_add(struct witness_store *ws, struct dft_ratelimit *rl, const char *body, size_t len,
                  struct witness_answer *a)
{
    struct witness_req *r = malloc(sizeof *r);
    struct dft_note n;
    struct dft_checkpoint c;
    struct dft_note_verifier logv;
    int have_note = 0;
    a->retry_after = 0;
    if (r == NULL) {
        answer(a, 500, "out of memory");
        return;
    }
    if (len > WITNESS_BODY_MAX) {
        answer(a, 413, "request is larger than 64 KiB");
        goto out;
    }
    if (witness_req_parse(r, body, len, NULL) != DFT_OK) {
        answer(a, 400, "malformed add-checkpoint request");
        goto out;
    }
    if (note_parse(&n, r->note, r->note_len, NULL) != DFT_OK) {
        answer(a, 400, "malformed checkpoint note");
        goto out;
    }
    have_note = 1;
    if (witness_checkpoint_head(&c, n.text, n.text_len, NULL) != DFT_OK) {
        answer(a, 400, "malformed checkpoint");
        goto out;
    }
    pthread_mutex_lock(&ws->mu);
    int found = log_key(ws, c.origin, &logv);
    pthread_mutex_unlock(&ws->mu);
    if (found < 0) {
        answer(a, 500, "cannot read the witness database");
        goto out;
    }
    if (found == 0) {
        answer(a, 404, "unknown log origin");
        goto out;
    }
    if (rl != NULL) {
        char key[65];
        origin_hash_hex(key, c.origin); /* the limiter keeps the first 63 hex digits */
        key[DFT_RATELIMIT_KEY - 1] = '\0';
        if (!dft_ratelimit_take(rl, key, &a->retry_after)) {
            answer(a, 429, "too many requests for this log");
            goto out;
        }
    }
    if (note_verify(&n, &logv, 1, NULL, NULL) != DFT_OK) {
        answer(a, 403, "no valid signature by the log's trusted key");
        goto out;
    }
    if (r->old_size > c.size) {
        answer(a, 400, "old size is larger than the checkpoint's size");
        goto out;
    }
    pthread_mutex_lock(&ws->mu);
    check_and_update(ws, r, &n, &c, &logv, body, len, a);
    pthread_mutex_unlock(&ws->mu);
out:
    if (have_note) {
        note_release(&n);
    }
    free(r);
}

void
witness_store_get(struct witness_store *ws, const char *hex, struct witness_answer *a)
{
    sqlite3_stmt *st = NULL;
    a->retry_after = 0;
    pthread_mutex_lock(&ws->mu);
    int src =
        sqlite3_prepare_v2(ws->db, "SELECT note FROM logs WHERE origin_hash = ?1", -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0) {
        a->status = 200;
        a->ctype = "text/plain; charset=utf-8";
        dft_buf_reset(&a->body);
        if (dft_buf_add(&a->body, sqlite3_column_blob(st, 0),
                        (size_t)sqlite3_column_bytes(st, 0)) != DFT_OK) {
            a->status = 500;
        }
    } else if (src == SQLITE_ROW || src == SQLITE_DONE) {
        answer(a, 404, "no checkpoint cosigned for this log");
    } else {
        answer(a, 500, "cannot read the witness database");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ws->mu);
}
