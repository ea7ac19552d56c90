/*
 * sync_chunks.c - evidence objects for team sync: each object this vault imported goes to the
 * server as one chunk, re-wrapped so that the epoch's keys open it, under a name that is a keyed
 * hash of its object id; a pulled chunk is checked, re-wrapped under the local object key and
 * placed in objects/ under the same id. Never writes plaintext; the chunks of an object keep
 * their per-file key and AES-256-GCM sealing, only the 184-byte header changes.
 *
 * Chunk body: u32 epoch ‖ u8 mode ‖ [mode 1: crypto_box_seal(K, drop public key), 80 bytes] ‖
 * the object file, its header wrapped under WK_e = BLAKE2b-256(key = CK_e,
 * "defter/sync/chunk-wrap/v1") (mode 0) or K (mode 1, a field device).
 * Name: hex HMAC-SHA-256(NK_e, object id), NK_e = BLAKE2b-256(key = drop public key of epoch e,
 * "defter/sync/chunk-name/v1"): every member and field device of the epoch can compute it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/file.h"
#include "crypto/hash.h"
#include "evidence/evidence.h"
#include "evidence/rekey.h"
#include "store/store.h"
#include "vault/sync_internal.h"
#include "vault/camouflage.h"
#include "vault/vault_internal.h"

#define CHUNK_MAX ((size_t)256 << 20) /* one object per chunk; larger ones are refused */

enum chunk_state { CHUNK_SENT = 1, CHUNK_RECEIVED = 2 };

static void
derive(unsigned char out[32], const unsigned char key[32], const char *label)
{
    crypto_generichash(out, 32, (const unsigned char *)label, strlen(label), key, 32);
}

static void
chunk_name(char hex[65], const struct dft_sync_epoch *ep, const unsigned char id[32])
{
    unsigned char nk[32], mac[32];
    derive(nk, ep->drop_pk, "defter/sync/chunk-name/v1");
    crypto_hmac_sha256(mac, nk, sizeof nk, id, 32);
    dft_hex_encode(hex, mac, sizeof mac);
    sodium_memzero(nk, sizeof nk);
}

static enum dft_err
objects_path(struct dft_vault *v, char *out, size_t max, struct dft_error *err)
{
    /* a camouflaged vault names its objects folder after the cover name */
    if (vault_objects_path(v->dir, v->header_path, out, max, NULL) != DFT_OK) {
        return dft_fail(err, DFT_ERR_INPUT, "vault path is too long");
    }
    return DFT_OK;
}

static int
object_path(char *out, size_t max, const char *objdir, const char *hex)
{
    int n = snprintf(out, max, "%s/%.2s/%s", objdir, hex, hex);
    return n > 0 && (size_t)n < max;
}

static const struct dft_sync_epoch *
newest(const struct dft_sync_keyring *ring)
{
    const struct dft_sync_epoch *cur = NULL;
    for (size_t i = 0; ring != NULL && i < ring->count; i++) {
        if (cur == NULL || ring->epochs[i].epoch > cur->epoch) {
            cur = &ring->epochs[i];
        }
    }
    return cur;
}

static const struct dft_sync_epoch *
epoch_of(const struct dft_sync_keyring *ring, uint32_t e)
{
    for (size_t i = 0; ring != NULL && i < ring->count; i++) {
        if (ring->epochs[i].epoch == e) {
            return &ring->epochs[i];
        }
    }
    return NULL;
}

/* Read a whole object file (at most CHUNK_MAX bytes) into *buf (malloc'd). */
static enum dft_err
read_object(const char *path, unsigned char **buf, size_t *n, struct dft_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        return dft_fail(err, errno == ENOENT ? DFT_ERR_NOT_FOUND : DFT_ERR_IO,
                        "cannot open an evidence object: %s", file_errstr(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < DFT_EVIDENCE_HEADER_BYTES) {
        close(fd);
        return dft_fail(err, DFT_ERR_INTEGRITY, "an evidence object is not a valid file");
    }
    if ((uint64_t)st.st_size > CHUNK_MAX) {
        close(fd);
        return dft_fail(err, DFT_ERR_TOO_LARGE, "evidence object over %zu MiB: not synced yet",
                        CHUNK_MAX >> 20);
    }
    *n = (size_t)st.st_size;
    *buf = malloc(*n);
    if (*buf == NULL) {
        close(fd);
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    ssize_t r = file_pread_full(fd, *buf, *n, 0);
    close(fd);
    if (r < 0 || (size_t)r != *n) {
        free(*buf);
        *buf = NULL;
        return dft_fail(err, DFT_ERR_IO, "cannot read an evidence object");
    }
    return DFT_OK;
}

static enum dft_err
mark(struct dft_vault *v, const char *name, const char *object, int state, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(v->db,
                                 "INSERT OR REPLACE INTO main.sync_chunks(name, object, state)"
                                 " VALUES(?1, ?2, ?3)",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, object, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, state);
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? DFT_OK : store_error(v->db, src, "cannot record a chunk", err);
}

enum dft_err
dft_vault_sync_chunks_out(struct dft_vault *v, const struct dft_sync_keyring *ring,
                          dft_sync_chunk_fn fn, void *ctx, struct dft_error *err)
{
    const struct dft_sync_epoch *ep = newest(ring);
    char objdir[PATH_MAX];
    sqlite3_stmt *st = NULL;
    json_t *todo = json_array();
    enum dft_err rc = DFT_OK;
    unsigned char *k = sodium_malloc(32);
    if (ep == NULL || fn == NULL) {
        rc = dft_fail(err, DFT_ERR_USAGE, "no collection key to wrap evidence with");
        goto out;
    }
    if (todo == NULL || k == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = objects_path(v, objdir, sizeof objdir, err)) != DFT_OK ||
        (rc = sync_tables(v->db, err)) != DFT_OK) {
        goto out;
    }
    /* objects of live evidence, neither received from the server nor sent already */
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT DISTINCT object FROM main.evidence WHERE deleted = 0"
                                 " AND object IS NOT NULL AND object NOT IN"
                                 " (SELECT object FROM main.sync_chunks) ORDER BY object",
                                 -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        json_array_append_new(todo, json_string((const char *)sqlite3_column_text(st, 0)));
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        rc = store_error(v->db, src, "cannot read the evidence table", err);
        goto out;
    }
    size_t i;
    json_t *obj;
    json_array_foreach(todo, i, obj)
    {
        const char *hex = json_string_value(obj);
        char path[PATH_MAX + 80];
        unsigned char *file = NULL, *body = NULL;
        size_t n = 0;
        if (hex == NULL || strlen(hex) != 64 || !object_path(path, sizeof path, objdir, hex)) {
            continue;
        }
        rc = read_object(path, &file, &n, err);
        if (rc == DFT_ERR_NOT_FOUND) { /* another member's evidence not pulled yet */
            if (err != NULL) {
                dft_error_clear(err);
            }
            rc = DFT_OK;
            continue;
        }
        if (rc != DFT_OK) {
            goto out;
        }
        int drop = !ep->has_secret;
        size_t off = 5 + (drop ? SYNC_SEALED_K_BYTES : 0);
        body = malloc(off + n);
        if (body == NULL) {
            free(file);
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        dft_be_put(body, ep->epoch, 4);
        body[4] = drop ? SYNC_MODE_DROP : SYNC_MODE_CK;
        if (drop) {
            randombytes_buf(k, 32);
            if (crypto_box_seal(body + 5, k, 32, ep->drop_pk) != 0) {
                rc = dft_fail(err, DFT_ERR_CRYPTO, "cannot seal to the epoch's drop key");
            }
        } else {
            derive(k, ep->ck, "defter/sync/chunk-wrap/v1");
        }
        memcpy(body + off + DFT_EVIDENCE_HEADER_BYTES, file + DFT_EVIDENCE_HEADER_BYTES,
               n - DFT_EVIDENCE_HEADER_BYTES);
        if (rc == DFT_OK) {
            /* the clear format leaves the vault, camouflaged or not */
            rc = evidence_header_rewrap_as(file, body + off, v->keys->object_key, k,
                                           EVIDENCE_ENC_CLEAR, err);
        }
        sodium_memzero(k, 32);
        free(file);
        char name[65];
        unsigned char id[32];
        if (rc == DFT_OK && dft_hex_decode(id, sizeof id, hex) != DFT_OK) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence object id is malformed");
        }
        if (rc != DFT_OK) {
            free(body);
            goto out;
        }
        chunk_name(name, ep, id);
        int stop = fn(ctx, name, body, off + n);
        free(body);
        if (stop != 0) {
            break;
        }
        if ((rc = mark(v, name, hex, CHUNK_SENT, err)) != DFT_OK) {
            goto out;
        }
    }
out:
    sqlite3_finalize(st);
    json_decref(todo);
    sodium_free(k);
    return rc;
}

/* Live evidence objects missing from objects/: [object hex...]. */
static enum dft_err
missing_objects(struct dft_vault *v, json_t **out, struct dft_error *err)
{
    char objdir[PATH_MAX];
    sqlite3_stmt *st = NULL;
    json_t *list = json_array();
    enum dft_err rc = objects_path(v, objdir, sizeof objdir, err);
    if (rc != DFT_OK || list == NULL) {
        json_decref(list);
        return rc != DFT_OK ? rc : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT DISTINCT object FROM main.evidence WHERE deleted = 0"
                                 " AND object IS NOT NULL ORDER BY object",
                                 -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hex = (const char *)sqlite3_column_text(st, 0);
        char path[PATH_MAX + 80];
        if (hex != NULL && strlen(hex) == 64 && object_path(path, sizeof path, objdir, hex) &&
            access(path, F_OK) != 0) {
            json_array_append_new(list, json_string(hex));
        }
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        json_decref(list);
        return store_error(v->db, src, "cannot read the evidence table", err);
    }
    *out = list;
    return DFT_OK;
}

enum dft_err
dft_vault_sync_chunks_wanted(struct dft_vault *v, json_t **names, struct dft_error *err)
{
    struct dft_sync_keyring ring = {0, NULL};
    json_t *missing = NULL, *out = json_array();
    enum dft_err rc = dft_vault_sync_keys_get(v, &ring, err);
    if (rc == DFT_OK) {
        rc = missing_objects(v, &missing, err);
    }
    if (rc == DFT_OK && out == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    size_t i;
    json_t *obj;
    json_array_foreach(missing, i, obj)
    {
        unsigned char id[32];
        if (rc != DFT_OK || dft_hex_decode(id, sizeof id, json_string_value(obj)) != DFT_OK) {
            continue;
        }
        /* the name under each epoch held: the uploader used its newest one */
        for (size_t e = ring.count; e > 0; e--) {
            char name[65];
            chunk_name(name, &ring.epochs[e - 1], id);
            json_array_append_new(out, json_string(name));
        }
    }
    json_decref(missing);
    dft_sync_keyring_free(&ring);
    if (rc != DFT_OK) {
        json_decref(out);
        return rc;
    }
    *names = out;
    return DFT_OK;
}

/* The recorded SHA-256 of a live evidence row using object hex; 0 when none. */
static int
recorded_sha(struct dft_vault *v, const char *hex, unsigned char sha[32])
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(v->db,
                           "SELECT sha256 FROM main.evidence WHERE object = ?1 AND deleted = 0"
                           " LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            found = s != NULL && strlen(s) == 64 && dft_hex_decode(sha, 32, s) == DFT_OK;
        }
    }
    sqlite3_finalize(st);
    return found;
}

/* Write the object into objects/ab/hex through a temporary file; the name must be free. */
static enum dft_err
place(const char *objdir, const char *hex, const unsigned char *p, size_t n, struct dft_error *err)
{
    char tmp[PATH_MAX + 80], sub[PATH_MAX + 8], path[PATH_MAX + 80];
    snprintf(sub, sizeof sub, "%s/%.2s", objdir, hex);
    if (!object_path(path, sizeof path, objdir, hex)) {
        return dft_fail(err, DFT_ERR_INPUT, "objects directory path is too long");
    }
    int fd = file_create_temp(objdir, ".tmp-", tmp, sizeof tmp);
    if (fd < 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot write an evidence object: %s", file_errstr(errno));
    }
    int ok = file_write_all(fd, p, n) == 0 && file_fsync(fd) == 0;
    close(fd);
    if (ok && mkdir(sub, 0700) != 0 && errno != EEXIST) {
        ok = 0;
    }
    if (ok && file_rename_noreplace(tmp, path) != 0) {
        ok = errno == EEXIST; /* placed meanwhile: the same content */
        unlink(tmp);
    }
    if (!ok) {
        int e = errno;
        unlink(tmp);
        return dft_fail(err, DFT_ERR_IO, "cannot write an evidence object: %s", file_errstr(e));
    }
    if (file_fsync_dir(sub) != 0 || file_fsync_dir(objdir) != 0) {
        return dft_fail(err, DFT_ERR_IO, "cannot sync the objects directory");
    }
    return DFT_OK;
}

enum dft_err
dft_vault_sync_chunk_in(struct dft_vault *v, const struct dft_sync_keyring *ring, const char *name,
                        const unsigned char *body, size_t n, struct dft_error *err)
{
    struct dft_sync_keyring stored = {0, NULL};
    unsigned char *k = sodium_malloc(32);
    unsigned char *obj = NULL;
    char objdir[PATH_MAX], hex[65], want[65], path[PATH_MAX + 80];
    unsigned char sha[32];
    enum dft_err rc = DFT_OK;
    if (k == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if (name == NULL || body == NULL || n < 5) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence chunk is truncated");
        goto out;
    }
    uint32_t epoch = (uint32_t)dft_be_get(body, 4);
    int mode = body[4];
    size_t off = 5 + (mode == SYNC_MODE_DROP ? SYNC_SEALED_K_BYTES : 0);
    if ((mode != SYNC_MODE_CK && mode != SYNC_MODE_DROP) || n < off + DFT_EVIDENCE_HEADER_BYTES) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence chunk is malformed");
        goto out;
    }
    if (n - off > CHUNK_MAX) {
        rc = dft_fail(err, DFT_ERR_TOO_LARGE, "evidence chunk is too large");
        goto out;
    }
    if ((rc = dft_vault_sync_keys_get(v, &stored, err)) != DFT_OK) {
        goto out;
    }
    const struct dft_sync_epoch *ep = epoch_of(ring, epoch);
    if (ep == NULL || !ep->has_secret) {
        ep = epoch_of(&stored, epoch);
    }
    if (ep == NULL || !ep->has_secret) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence chunk of epoch %u: no key opens it",
                      (unsigned)epoch);
        goto out;
    }
    if (mode == SYNC_MODE_CK) {
        derive(k, ep->ck, "defter/sync/chunk-wrap/v1");
    } else if (crypto_box_seal_open(k, body + 5, SYNC_SEALED_K_BYTES, ep->drop_pk, ep->drop_sk) !=
               0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence chunk's sealed key does not open");
        goto out;
    }
    /* the name is the keyed hash of the object id inside the authenticated header */
    dft_hex_encode(hex, body + off + 24, 32);
    chunk_name(want, ep, body + off + 24);
    if (sodium_memcmp(want, name, 64) != 0 || strlen(name) != 64) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence chunk does not match its name");
        goto out;
    }
    if (!recorded_sha(v, hex, sha)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "no evidence of this vault uses that chunk");
        goto out;
    }
    obj = malloc(n - off);
    if (obj == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(obj, body + off, n - off);
    struct vault_layout lay;
    vault_layout_of_header(v->header_path, &lay);
    if ((rc = evidence_header_rewrap_as(
             body + off, obj, k, v->keys->object_key,
             lay.stem[0] != '\0' ? EVIDENCE_ENC_CAMOUFLAGED : EVIDENCE_ENC_CLEAR, err)) != DFT_OK ||
        (rc = objects_path(v, objdir, sizeof objdir, err)) != DFT_OK) {
        goto out;
    }
    if (!object_path(path, sizeof path, objdir, hex)) {
        rc = dft_fail(err, DFT_ERR_INPUT, "objects directory path is too long");
        goto out;
    }
    if (access(path, F_OK) == 0) {
        goto out; /* held already */
    }
    if ((rc = place(objdir, hex, obj, n - off, err)) != DFT_OK) {
        goto out;
    }
    /* it must open under the local key, every chunk and the pad authenticate, and its
     * plaintext have the SHA-256 its evidence operation recorded */
    struct dft_keys *nodedup = keys_new();
    if (nodedup == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    } else {
        memcpy(nodedup, v->keys, sizeof *nodedup);
        sodium_memzero(nodedup->dedup_key, sizeof nodedup->dedup_key);
        rc = evidence_verify(objdir, nodedup, hex, sha, 0, err);
        keys_free(nodedup);
    }
    if (rc == DFT_OK) {
        rc = sync_tables(v->db, err);
    }
    if (rc == DFT_OK) {
        rc = mark(v, name, hex, CHUNK_RECEIVED, err);
    }
    if (rc != DFT_OK) {
        unlink(path);
        if (rc != DFT_ERR_NOMEM && rc != DFT_ERR_IO) {
            rc = DFT_ERR_INTEGRITY;
        }
    }
out:
    sodium_free(k);
    free(obj);
    dft_sync_keyring_free(&stored);
    return rc;
}

/* ---- verify (verify.c calls it for a shared vault) ---- */

static int
received(struct dft_vault *v, const char *hex)
{
    sqlite3_stmt *st = NULL;
    int r = 0;
    if (sync_table_exists(v->db, "main", "sync_chunks") &&
        sqlite3_prepare_v2(v->db, "SELECT 1 FROM main.sync_chunks WHERE object = ?1 AND state = 2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return r;
}

/* Whether evidence id came in a local operation (its object must then be here). */
static int
local_evidence(struct dft_vault *v, const char *id)
{
    sqlite3_stmt *st = NULL;
    int r = 0;
    if (sqlite3_prepare_v2(v->db, "SELECT 1 FROM main.history WHERE record = ?1 LIMIT 1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return r;
}

enum dft_err
sync_object_keys(struct dft_vault *v, const char *object, struct dft_keys **keys,
                 struct dft_error *err)
{
    *keys = NULL;
    if (!received(v, object)) {
        return DFT_OK;
    }
    struct dft_keys *k = keys_new();
    if (k == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    memcpy(k, v->keys, sizeof *k);
    sodium_memzero(k->dedup_key, sizeof k->dedup_key);
    *keys = k;
    return DFT_OK;
}

enum dft_err
sync_verify_evidence(struct dft_vault *v, unsigned flags, json_t **report, struct dft_error *err)
{
    char objdir[PATH_MAX];
    sqlite3_stmt *st = NULL;
    long long objects = 0, evidence = 0, waiting = 0;
    char last[65] = "";
    enum dft_err rc = objects_path(v, objdir, sizeof objdir, err);
    *report = NULL;
    if (rc != DFT_OK) {
        return rc;
    }
    int src = sqlite3_prepare_v2(v->db,
                                 "SELECT id, object, sha256 FROM main.evidence WHERE deleted = 0"
                                 " ORDER BY object, id",
                                 -1, &st, NULL);
    while (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *hex = (const char *)sqlite3_column_text(st, 1);
        const char *sha_hex = (const char *)sqlite3_column_text(st, 2);
        unsigned char expected[32];
        char path[PATH_MAX + 80];
        evidence++;
        if (id == NULL || hex == NULL || sha_hex == NULL || strlen(sha_hex) != 64 ||
            strlen(hex) != 64 || dft_hex_decode(expected, sizeof expected, sha_hex) != DFT_OK ||
            !object_path(path, sizeof path, objdir, hex)) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY, "evidence '%s' has a damaged record",
                          id != NULL ? id : "?");
            break;
        }
        if (access(path, F_OK) != 0 && !local_evidence(v, id)) {
            waiting++; /* another member's file, not pulled yet */
            src = SQLITE_OK;
            continue;
        }
        objects += strcmp(hex, last) != 0;
        snprintf(last, sizeof last, "%s", hex);
        /* a received object keeps its author's id: checked without the dedup key, against
         * the SHA-256 its evidence operation recorded */
        struct dft_keys *pulled = NULL;
        rc = sync_object_keys(v, hex, &pulled, err);
        if (rc == DFT_OK) {
            rc = evidence_verify(objdir, pulled != NULL ? pulled : v->keys, hex, expected, flags,
                                 err);
        }
        keys_free(pulled);
        if (rc != DFT_OK) {
            dft_fail(err, rc, "evidence '%s' failed verification", id);
            break;
        }
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != DFT_OK) {
        return rc;
    }
    if (src != SQLITE_DONE && src != SQLITE_OK) {
        return store_error(v->db, src, "cannot read the evidence table", err);
    }
    *report =
        json_pack("{sIsIsIsb}", "objects", (json_int_t)objects, "evidence", (json_int_t)evidence,
                  "waiting", (json_int_t)waiting, "quick", (flags & EVIDENCE_QUICK) != 0);
    return *report != NULL ? DFT_OK : dft_fail(err, DFT_ERR_NOMEM, "out of memory");
}
