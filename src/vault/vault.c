/*
 * vault.c - create, open, close and rekey a vault; append operations as signed envelopes.
 *
 * Every change is one envelope in one SQLite transaction: the envelope row, its transparency
 * log leaf and the view updates commit together or not at all. Never writes plaintext to disk
 * (the database goes through the encrypting VFS) and never keeps keys outside locked memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "evidence/evidence.h"
#include "search/search.h"
#include "store/store.h"
#include "log/tlog.h"
#include "vault/envelope.h"
#include "vault/fsutil.h"
#include "vault/vault_internal.h"
#include "vault/view.h"

static const char *const record_types[] = {"case", "person", "event",        "proceeding", "source",
                                           "note", "place",  "organization", NULL};
static const char *const record_prefixes[] = {"case", "per", "evt", "proc", "src",
                                              "note", "plc", "org", NULL};

const char *const *
dft_record_types(void)
{
    return record_types;
}

int
dft_record_type_valid(const char *type)
{
    for (size_t i = 0; record_types[i] != NULL; i++) {
        if (strcmp(type, record_types[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *
type_prefix(const char *type)
{
    for (size_t i = 0; record_types[i] != NULL; i++) {
        if (strcmp(type, record_types[i]) == 0) {
            return record_prefixes[i];
        }
    }
    return "rec";
}

void
dft_vault_new_id(char *out, const char *prefix)
{
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    unsigned char r[10];
    randombytes_buf(r, sizeof r);
    char body[17];
    /* 80 random bits as 16 base32 characters. */
    for (int i = 0; i < 16; i++) {
        int bit = i * 5;
        int v = (r[bit / 8] << 8 | (bit / 8 + 1 < 10 ? r[bit / 8 + 1] : 0)) >> (11 - bit % 8);
        body[i] = alphabet[v & 31];
    }
    body[16] = '\0';
    snprintf(out, DFT_ID_MAX, "%s_%s", prefix, body);
}

static enum dft_err
vault_paths(struct dft_vault *v, const char *dir, struct dft_error *err)
{
    enum dft_err rc;
    if (snprintf(v->dir, sizeof v->dir, "%s", dir) >= (int)sizeof v->dir) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long");
    }
    if ((rc = dft_path_join(v->header_path, sizeof v->header_path, dir, DFT_VAULT_HEADER_FILE,
                            err)) != DFT_OK ||
        (rc = dft_path_join(v->db_path, sizeof v->db_path, dir, DFT_VAULT_DB_FILE, err)) !=
            DFT_OK) {
        return rc;
    }
    return DFT_OK;
}

/* Tables and per-connection registrations; runs on every open. */
static enum dft_err
vault_setup_db(struct dft_vault *v, struct dft_error *err)
{
    enum dft_err rc;
    /* A large page cache keeps batch inserts into random-id indexes off the disk. */
    if ((rc = store_exec(v->db, "PRAGMA cache_size=-65536", err)) != DFT_OK) {
        return rc;
    }
    if ((rc = store_exec(v->db, "BEGIN", err)) != DFT_OK) {
        return rc;
    }
    if ((rc = view_create_tables(v->db, "main", err)) != DFT_OK ||
        (rc = tlog_setup(v->db, err)) != DFT_OK || (rc = search_setup(v->db, err)) != DFT_OK) {
        store_rollback(v->db);
        return rc;
    }
    return store_exec(v->db, "COMMIT", err);
}

static int
dir_is_empty_or_absent(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return errno == ENOENT;
    }
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

enum dft_err
dft_vault_create(const char *dir, const char *pass, size_t pass_len, enum dft_kdf_level level,
                 struct dft_error *err)
{
    enum dft_err rc = dft_crypto_init(err);
    struct dft_vault *v = NULL;
    if (rc != DFT_OK) {
        return rc;
    }
    if (pass_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the passphrase is empty");
    }
    if (!dir_is_empty_or_absent(dir)) {
        struct stat st;
        char hp[PATH_MAX];
        if (dft_path_join(hp, sizeof hp, dir, DFT_VAULT_HEADER_FILE, NULL) == DFT_OK &&
            stat(hp, &st) == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "a vault already exists at '%s'", dir);
        }
        return dft_fail(err, DFT_ERR_INPUT, "cannot create a vault in '%s': directory not empty",
                        dir);
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", dir, strerror(errno));
    }
    v = calloc(1, sizeof *v);
    if (v == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    v->keys = keys_new();
    if (v->keys == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = vault_paths(v, dir, err)) != DFT_OK ||
        (rc = header_create(&v->header, v->keys, pass, pass_len, level, err)) != DFT_OK ||
        (rc = store_open(&v->db, v->db_path, v->keys->page_key, v->keys->vault_id, DFT_STORE_CREATE,
                         err)) != DFT_OK ||
        (rc = vault_setup_db(v, err)) != DFT_OK) {
        goto out;
    }
    char objects[PATH_MAX];
    if ((rc = dft_path_join(objects, sizeof objects, dir, DFT_VAULT_OBJECTS_DIR, err)) != DFT_OK) {
        goto out;
    }
    if (mkdir(objects, 0700) != 0 && errno != EEXIST) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", objects, strerror(errno));
        goto out;
    }
    /* The empty tree's state is sealed from the start; the database says so (tlog_meta). */
    struct dft_tlog_state empty = {.size = 0};
    tlog_hash_empty(empty.root);
    tlog_state_seal(v->header.state, &empty, v->keys->state_key, v->keys->vault_id);
    v->header.state_len = DFT_TLOG_STATE_BYTES;
    if ((rc = tlog_state_mark(v->db, err)) != DFT_OK) {
        goto out;
    }
    /* The header goes last: a vault without one is not a vault, and creation can be retried. */
    rc = header_write(&v->header, v->header_path, err);
    if (rc == DFT_OK) {
        rc = dft_fsync_dir_of(dir, 1, err);
    }
out:
    if (v != NULL) {
        store_close(v->db);
        v->db = NULL;
        if (rc != DFT_OK) {
            unlink(v->db_path);
            char wal[PATH_MAX + 8];
            snprintf(wal, sizeof wal, "%s-wal", v->db_path);
            unlink(wal);
            char objects2[PATH_MAX + 16];
            snprintf(objects2, sizeof objects2, "%s/%s", dir, DFT_VAULT_OBJECTS_DIR);
            rmdir(objects2);
            rmdir(dir);
        }
        keys_free(v->keys);
        sodium_memzero(v, sizeof *v);
        free(v);
    }
    return rc;
}

enum dft_err
dft_vault_open(struct dft_vault **out, const char *dir, const char *pass, size_t pass_len,
               struct dft_error *err)
{
    enum dft_err rc = dft_crypto_init(err);
    if (rc != DFT_OK) {
        return rc;
    }
    struct dft_vault *v = calloc(1, sizeof *v);
    if (v == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    v->keys = keys_new();
    if (v->keys == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = vault_paths(v, dir, err)) != DFT_OK ||
        (rc = header_read(&v->header, v->header_path, err)) != DFT_OK ||
        (rc = header_unlock(&v->header, v->keys, pass, pass_len, err)) != DFT_OK) {
        goto out;
    }
    if (access(v->db_path, F_OK) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "vault database '%s' is missing", v->db_path);
        goto out;
    }
    if ((rc = store_open(&v->db, v->db_path, v->keys->page_key, v->keys->vault_id, 0, err)) !=
            DFT_OK ||
        (rc = vault_setup_db(v, err)) != DFT_OK || (rc = vault_state_check(v, err)) != DFT_OK) {
        goto out;
    }
    dft_b64_encode(v->author, v->keys->sign_pk, DFT_SIGN_PK_BYTES);
    /* The database lock is ours now: temporary objects left by a crashed import can go. */
    char objects[PATH_MAX];
    size_t swept = 0;
    if (dft_path_join(objects, sizeof objects, dir, DFT_VAULT_OBJECTS_DIR, NULL) == DFT_OK &&
        evidence_sweep(objects, &swept, NULL) == DFT_OK && swept > 0) {
        dft_log(DFT_LOG_INFO, "removed %zu temporary objects of an interrupted import", swept);
    }
    *out = v;
    v = NULL;
out:
    dft_vault_close(v);
    return rc;
}

void
dft_vault_close(struct dft_vault *v)
{
    if (v == NULL) {
        return;
    }
    store_close(v->db);
    keys_free(v->keys);
    sodium_memzero(v, sizeof *v);
    free(v);
}

enum dft_err
dft_vault_rekey(struct dft_vault *v, const char *new_pass, size_t new_len, enum dft_kdf_level level,
                struct dft_error *err)
{
    if (new_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the passphrase is empty");
    }
    /* Under the directory lock, from the header on disk: keep a state sealed meanwhile. */
    int fd = -1;
    struct dft_header h = v->header;
    struct dft_header disk;
    enum dft_err rc = vault_dir_lock(v, &fd, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (header_read(&disk, v->header_path, NULL) == DFT_OK &&
        sodium_memcmp(disk.vault_id, h.vault_id, DFT_VAULT_ID_BYTES) == 0) {
        h.state_len = disk.state_len;
        memcpy(h.state, disk.state, disk.state_len);
    }
    rc = header_wrap(&h, v->keys, new_pass, new_len, level, err);
    if (rc == DFT_OK) {
        rc = header_write(&h, v->header_path, err);
    }
    if (rc == DFT_OK) {
        v->header = h;
    }
    vault_dir_unlock(fd);
    sodium_memzero(&h, sizeof h);
    sodium_memzero(&disk, sizeof disk);
    return rc;
}

sqlite3 *
vault_db(struct dft_vault *v)
{
    return v->db;
}

const struct dft_keys *
vault_keys(struct dft_vault *v)
{
    return v->keys;
}

const char *
dft_vault_dir(struct dft_vault *v)
{
    return v->dir;
}

static enum dft_err
next_index(sqlite3 *db, int64_t *idx, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(idx)+1, 0) FROM envelopes", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return store_error(db, rc, "cannot read the log", err);
    }
    *idx = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return DFT_OK;
}

static enum dft_err
store_envelope(sqlite3 *db, int64_t idx, const struct dft_buf *env,
               unsigned char leaf[DFT_HASH_BYTES], struct dft_error *err)
{
    crypto_leaf_hash(leaf, env->data, env->len);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO envelopes(idx, leaf_hash, envelope) VALUES(?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, idx);
        sqlite3_bind_blob(st, 2, leaf, DFT_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 3, env->data, env->len, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return store_error(db, rc, "cannot store the operation", err);
    }
    return DFT_OK;
}

/* Sealing (hashing, signing, encrypting) runs on a second thread while the view is applied. */
struct seal_job {
    const struct dft_keys *keys;
    const json_t *ops;    /* read only on both threads */
    struct dft_buf *env;  /* output */
    struct dft_error err; /* the thread's own error record */
    enum dft_err rc;
};

static void *
seal_thread(void *arg)
{
    struct seal_job *job = arg;
    job->rc = envelope_seal(job->keys, job->ops, job->env, &job->err);
    return NULL;
}

/* A third thread makes the view's canonical JSON ahead of it (see view_ahead_run). */
static void *
ahead_thread(void *arg)
{
    view_ahead_run(arg);
    return NULL;
}

enum dft_err
vault_commit_ops(struct dft_vault *v, json_t *ops, struct dft_error *err)
{
    char ts[DFT_TS_BYTES];
    dft_time_now(ts);
    size_t n = json_array_size(ops);
    if (n == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "nothing to add");
    }
    if (n > DFT_BATCH_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many operations in one batch (max %d)",
                        DFT_BATCH_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *op = json_array_get(ops, i);
        char id[DFT_ID_MAX];
        dft_vault_new_id(id, "op");
        json_object_set_new(op, "v", json_integer(1));
        json_object_set_new(op, "id", json_string(id));
        json_object_set_new(op, "ts", json_string(ts));
        json_object_set_new(op, "author", json_string(v->author));
        if (json_object_get(op, "fields") == NULL) {
            json_object_set_new(op, "fields", json_object());
        }
    }
    struct dft_buf env;
    dft_buf_init(&env, DFT_ENV_MAX, 0);
    struct dft_view vw;
    int view_ready = 0;
    int in_tx = 0;
    int64_t idx = 0;
    unsigned char leaf[DFT_HASH_BYTES];
    struct dft_tlog_state state;
    enum dft_err rc = DFT_OK;
    struct seal_job job = {v->keys, ops, &env, {DFT_OK, ""}, DFT_OK};
    pthread_t sealer;
    int threaded = n >= 64 && pthread_create(&sealer, NULL, seal_thread, &job) == 0;
    if (!threaded) {
        seal_thread(&job);
    }
    struct dft_view_ahead *ahead = NULL;
    pthread_t maker;
    int making = 0;
    struct dft_error ahead_err; /* without a maker the view makes its JSON itself */
    if (threaded && view_ahead_new(&ahead, ops, &ahead_err) == DFT_OK) {
        making = pthread_create(&maker, NULL, ahead_thread, ahead) == 0;
        if (!making) {
            view_ahead_free(ahead);
            ahead = NULL;
        }
    }
    if ((rc = store_exec(v->db, "BEGIN IMMEDIATE", err)) != DFT_OK) {
        goto out;
    }
    in_tx = 1;
    if ((rc = view_init(&vw, v->db, "main", 1, err)) != DFT_OK) {
        goto out;
    }
    view_ready = 1;
    vw.ahead = ahead;
    if ((rc = next_index(v->db, &idx, err)) != DFT_OK ||
        (rc = view_apply(&vw, idx, ops, err)) != DFT_OK) {
        goto out;
    }
    if (threaded) {
        pthread_join(sealer, NULL);
        threaded = 0;
    }
    if (job.rc != DFT_OK) {
        rc = dft_fail(err, job.rc, "%s", job.err.msg);
        goto out;
    }
    state.size = (uint64_t)idx + 1;
    if ((rc = store_envelope(v->db, idx, &env, leaf, err)) != DFT_OK ||
        (rc = tlog_append(v->db, (uint64_t)idx, leaf, err)) != DFT_OK ||
        (rc = tlog_root(v->db, state.size, state.root, err)) != DFT_OK) {
        goto out;
    }
    view_release(&vw);
    view_ready = 0;
    rc = store_exec(v->db, "COMMIT", err);
    if (rc == DFT_OK) {
        in_tx = 0;
        dft_log(DFT_LOG_INFO, "appended envelope %lld with %zu operations", (long long)idx, n);
        /* After the commit: a crash before this leaves the header behind, which is safe. */
        vault_state_catch_up(v, &state);
    }
out:
    if (making) {
        view_ahead_cancel(ahead);
        pthread_join(maker, NULL);
    }
    view_ahead_free(ahead);
    if (threaded) {
        pthread_join(sealer, NULL);
    }
    if (view_ready) {
        view_release(&vw);
    }
    if (in_tx) {
        store_rollback(v->db);
    }
    dft_buf_release(&env);
    return rc;
}

enum dft_err
dft_vault_append_ops(struct dft_vault *v, const json_t *ops, json_t **ids_out,
                     struct dft_error *err)
{
    if (!json_is_array(ops)) {
        return dft_fail(err, DFT_ERR_INTERNAL, "operations must be an array");
    }
    json_t *copy = json_deep_copy(ops);
    if (copy == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    enum dft_err rc = vault_commit_ops(v, copy, err);
    if (rc == DFT_OK && ids_out != NULL) {
        json_t *ids = json_array();
        size_t i;
        json_t *op;
        json_array_foreach(copy, i, op)
        {
            json_array_append(ids, json_object_get(op, "id"));
        }
        *ids_out = ids;
    }
    json_decref(copy);
    return rc;
}

/* ---- validation of user input ---- */

static enum dft_err
check_value(const char *field, const json_t *val, int depth, struct dft_error *err)
{
    if (depth > 8) {
        return dft_fail(err, DFT_ERR_INPUT, "field '%s' is nested too deeply", field);
    }
    switch (json_typeof(val)) {
    case JSON_REAL:
        return dft_fail(err, DFT_ERR_INPUT,
                        "field '%s': only strings, integers, true/false, lists and objects "
                        "are supported (not fractional numbers)",
                        field);
    case JSON_STRING:
        if (json_string_length(val) > DFT_FIELD_VALUE_MAX) {
            return dft_fail(err, DFT_ERR_TOO_LARGE, "field '%s' is too long", field);
        }
        if (!dft_utf8_valid(json_string_value(val), json_string_length(val))) {
            return dft_fail(err, DFT_ERR_INPUT, "field '%s' is not valid UTF-8 text", field);
        }
        return DFT_OK;
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        json_array_foreach((json_t *)(uintptr_t)val, i, x)
        {
            enum dft_err rc = check_value(field, x, depth + 1, err);
            if (rc != DFT_OK) {
                return rc;
            }
        }
        return DFT_OK;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)val, k, x)
        {
            enum dft_err rc = check_value(field, x, depth + 1, err);
            if (rc != DFT_OK) {
                return rc;
            }
        }
        return DFT_OK;
    }
    default:
        return DFT_OK;
    }
}

static enum dft_err
check_field_name(const char *name, struct dft_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64) {
        return dft_fail(err, DFT_ERR_INPUT, "field names must have 1 to 64 characters");
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (c >= 'A' && c <= 'Z'))) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "field name '%.64s' may only hold letters a-z, digits, '_' and '-'",
                            name);
        }
    }
    return DFT_OK;
}

/* Check one record to add and build its create operation (fields without "type"/"key"). */
static enum dft_err
build_create(const json_t *item, size_t index, json_t **op_out, char *id_out, struct dft_error *err)
{
    if (!json_is_object(item)) {
        return dft_fail(err, DFT_ERR_INPUT, "record %zu is not a JSON object", index);
    }
    const char *type = json_string_value(json_object_get(item, "type"));
    if (type == NULL) {
        return dft_fail(err, DFT_ERR_INPUT, "record %zu has no \"type\"", index);
    }
    if (!dft_record_type_valid(type)) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "unknown record type '%.40s' (case, person, event, proceeding, source, "
                        "note, place, organization)",
                        type);
    }
    json_t *fields = json_object();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)item, key, val)
    {
        if (strcmp(key, "type") == 0 || strcmp(key, "key") == 0 || strcmp(key, "id") == 0) {
            continue;
        }
        enum dft_err rc = check_field_name(key, err);
        if (rc == DFT_OK && json_is_null(val)) {
            rc = dft_fail(err, DFT_ERR_INPUT, "field '%s' of record %zu is null", key, index);
        }
        if (rc == DFT_OK) {
            rc = check_value(key, val, 0, err);
        }
        if (rc != DFT_OK) {
            json_decref(fields);
            return rc;
        }
        json_object_set(fields, key, val);
    }
    dft_vault_new_id(id_out, type_prefix(type));
    *op_out = json_pack("{sssssssO}", "record", id_out, "action", "create", "type", type, "fields",
                        fields);
    json_decref(fields);
    if (*op_out == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    return DFT_OK;
}

static enum dft_err
check_role(const char *role, struct dft_error *err)
{
    size_t n = strlen(role);
    if (n == 0 || n > 64) {
        return dft_fail(err, DFT_ERR_INPUT, "a role must have 1 to 64 characters");
    }
    for (size_t i = 0; i < n; i++) {
        char c = role[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return dft_fail(err, DFT_ERR_INPUT,
                            "role '%.64s' may only hold lower-case letters, digits, '_' and '-'",
                            role);
        }
    }
    return DFT_OK;
}

/* Document form: {"records":[{"key":..}], "links":[[from_key, to_key, role]]}. */
static enum dft_err
build_links(const json_t *links, const json_t *keymap, json_t *ops, struct dft_error *err)
{
    size_t i;
    json_t *l;
    json_array_foreach((json_t *)(uintptr_t)links, i, l)
    {
        const char *a = json_string_value(json_array_get(l, 0));
        const char *b = json_string_value(json_array_get(l, 1));
        const char *role = json_string_value(json_array_get(l, 2));
        if (!json_is_array(l) || json_array_size(l) != 3 || a == NULL || b == NULL ||
            role == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "link %zu must be [from_key, to_key, role]", i);
        }
        const char *ida = json_string_value(json_object_get(keymap, a));
        const char *idb = json_string_value(json_object_get(keymap, b));
        if (ida == NULL || idb == NULL) {
            return dft_fail(err, DFT_ERR_INPUT, "link %zu names an unknown key '%.64s'", i,
                            ida == NULL ? a : b);
        }
        if (strcmp(ida, idb) == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "link %zu links a record to itself", i);
        }
        enum dft_err rc = check_role(role, err);
        if (rc != DFT_OK) {
            return rc;
        }
        char lid[DFT_ID_MAX];
        dft_vault_new_id(lid, "lnk");
        if (json_array_append_new(ops,
                                  json_pack("{sssssss{ssss}}", "record", ida, "to", idb, "action",
                                            "link", "fields", "link", lid, "role", role)) != 0) {
            return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        }
    }
    return DFT_OK;
}

enum dft_err
dft_vault_check_items(const json_t *items, json_t **ops_out, json_t **ids_out,
                      struct dft_error *err)
{
    const json_t *records = items;
    const json_t *links = NULL;
    if (json_is_object(items) && json_is_array(json_object_get(items, "records"))) {
        records = json_object_get(items, "records");
        links = json_object_get(items, "links");
        if (links != NULL && !json_is_array(links)) {
            return dft_fail(err, DFT_ERR_INPUT, "\"links\" must be a list");
        }
    }
    if (!json_is_array(records)) {
        return dft_fail(err, DFT_ERR_INPUT, "expected a JSON array of records");
    }
    size_t n = json_array_size(records);
    if (n == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "no records to add");
    }
    if (n + json_array_size(links) > DFT_BATCH_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "too many records in one batch (max %d)",
                        DFT_BATCH_MAX);
    }
    json_t *ops = json_array();
    json_t *ids = json_array();
    json_t *keymap = json_object();
    enum dft_err rc = DFT_OK;
    if (ops == NULL || ids == NULL || keymap == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(records, i);
        json_t *op = NULL;
        char id[DFT_ID_MAX];
        rc = build_create(item, i, &op, id, err);
        if (rc != DFT_OK) {
            goto out;
        }
        if (json_array_append_new(ops, op) != 0 ||
            json_array_append_new(ids, json_string(id)) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
        const json_t *key_j = json_object_get(item, "key");
        if (key_j == NULL) {
            continue;
        }
        const char *key = json_string_value(key_j);
        if (key == NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "\"key\" of record %zu must be a string", i);
            goto out;
        }
        if (json_object_get(keymap, key) != NULL) {
            rc = dft_fail(err, DFT_ERR_INPUT, "key '%.64s' of record %zu is used twice", key, i);
            goto out;
        }
        if (json_object_set_new(keymap, key, json_string(id)) != 0) {
            rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (links != NULL && (rc = build_links(links, keymap, ops, err)) != DFT_OK) {
        goto out;
    }
out:
    json_decref(keymap);
    if (rc == DFT_OK && ops_out != NULL) {
        *ops_out = ops;
        ops = NULL;
    }
    if (rc == DFT_OK && ids_out != NULL) {
        *ids_out = ids;
        ids = NULL;
    }
    json_decref(ops);
    json_decref(ids);
    return rc;
}

enum dft_err
dft_vault_add(struct dft_vault *v, const json_t *items, json_t **ids_out, struct dft_error *err)
{
    json_t *ops = NULL;
    json_t *ids = NULL;
    enum dft_err rc = dft_vault_check_items(items, &ops, &ids, err);
    if (rc == DFT_OK) {
        rc = vault_commit_ops(v, ops, err);
    }
    json_decref(ops);
    if (rc == DFT_OK) {
        *ids_out = ids;
    } else {
        json_decref(ids);
    }
    return rc;
}

/* Kind of a live id: 'r' record, 'l' link, 'e' evidence, 0 unknown or deleted. */
static int
id_kind(sqlite3 *db, const char *id, char *type_out, size_t type_max)
{
    static const char *const sql[] = {
        "SELECT type FROM records WHERE id=? AND deleted=0",
        "SELECT 'link' FROM links WHERE id=? AND deleted=0",
        "SELECT 'evidence' FROM evidence WHERE id=? AND deleted=0",
    };
    static const char kinds[] = {'r', 'l', 'e'};
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize(st);
            return 0;
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (type_out != NULL) {
                snprintf(type_out, type_max, "%s", (const char *)sqlite3_column_text(st, 0));
            }
            sqlite3_finalize(st);
            return kinds[i];
        }
        sqlite3_finalize(st);
    }
    return 0;
}

static enum dft_err
check_id_syntax(const char *id, struct dft_error *err)
{
    size_t n = strlen(id);
    if (n == 0 || n >= DFT_ID_MAX) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.48s'", id);
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%.48s'", id);
        }
    }
    return DFT_OK;
}

enum dft_err
dft_vault_edit(struct dft_vault *v, const char *id, const json_t *fields, struct dft_error *err)
{
    enum dft_err rc = check_id_syntax(id, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (id_kind(v->db, id, NULL, 0) != 'r') {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", id);
    }
    if (!json_is_object(fields) || json_object_size(fields) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "nothing to change: give FIELD=VALUE");
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)(uintptr_t)fields, key, val)
    {
        if (strcmp(key, "type") == 0) {
            return dft_fail(err, DFT_ERR_INPUT, "the type of a record cannot change");
        }
        if ((rc = check_field_name(key, err)) != DFT_OK ||
            (rc = check_value(key, val, 0, err)) != DFT_OK) {
            return rc;
        }
    }
    json_t *ops = json_pack("[{sssssO}]", "record", id, "action", "update", "fields", fields);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_vault_delete(struct dft_vault *v, const char *id, struct dft_error *err)
{
    enum dft_err rc = check_id_syntax(id, err);
    if (rc != DFT_OK) {
        return rc;
    }
    int kind = id_kind(v->db, id, NULL, 0);
    json_t *ops = NULL;
    if (kind == 'r' || kind == 'e') {
        ops = json_pack("[{ssss}]", "record", id, "action", "delete");
    } else if (kind == 'l') {
        sqlite3_stmt *st = NULL;
        int src = sqlite3_prepare_v2(v->db, "SELECT src, dst FROM links WHERE id=?", -1, &st, NULL);
        if (src == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            src = sqlite3_step(st);
        }
        if (src != SQLITE_ROW) {
            sqlite3_finalize(st);
            return store_error(v->db, src, "cannot read link", err);
        }
        ops = json_pack("[{sssssss{ss}}]", "record", sqlite3_column_text(st, 0), "to",
                        sqlite3_column_text(st, 1), "action", "unlink", "fields", "link", id);
        sqlite3_finalize(st);
    } else {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", id);
    }
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    return rc;
}

enum dft_err
dft_vault_link(struct dft_vault *v, const char *from, const char *to, const char *role,
               char *id_out, struct dft_error *err)
{
    enum dft_err rc;
    if ((rc = check_id_syntax(from, err)) != DFT_OK || (rc = check_id_syntax(to, err)) != DFT_OK ||
        (rc = check_role(role, err)) != DFT_OK) {
        return rc;
    }
    if (id_kind(v->db, from, NULL, 0) != 'r') {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", from);
    }
    if (id_kind(v->db, to, NULL, 0) != 'r') {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no record with id '%s'", to);
    }
    if (strcmp(from, to) == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot link a record to itself");
    }
    char lid[DFT_ID_MAX];
    dft_vault_new_id(lid, "lnk");
    json_t *ops = json_pack("[{sssssss{ssss}}]", "record", from, "to", to, "action", "link",
                            "fields", "link", lid, "role", role);
    if (ops == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    rc = vault_commit_ops(v, ops, err);
    json_decref(ops);
    if (rc == DFT_OK) {
        snprintf(id_out, DFT_ID_MAX, "%s", lid);
    }
    return rc;
}
