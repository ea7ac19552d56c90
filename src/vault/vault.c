/*
 * vault.c - the vault's lifecycle: create, open, close and rekey; record types and ids.
 *
 * The commit pipeline is commit.c, the checks of records to add items.c, edit/delete/link
 * changes.c. Never writes plaintext to disk (the database goes through the encrypting VFS)
 * and never keeps keys outside locked memory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "vault/camouflage.h"
#include "vault/envelope.h"
#include "vault/fsutil.h"
#include "vault/rekey.h"
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

const char *
vault_type_prefix(const char *type)
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
    unsigned char r[VAULT_ID_RANDOM_BYTES];
    randombytes_buf(r, sizeof r);
    vault_id_from_random(out, prefix, r);
}

static int
cmp_id_random(const void *a, const void *b)
{
    return memcmp(a, b, VAULT_ID_RANDOM_BYTES);
}

/*
 * The random parts of n ids from one draw, in ascending order: ids given in this order to the
 * records of a batch are inserted in key order (the tables' keys and the search index's), and
 * the set of ids is as random as n draws. The order tells nothing the operations' order does
 * not already tell. NULL if out of memory.
 */
unsigned char *
vault_ids_random_sorted(size_t n)
{
    unsigned char *r =
        n > 0 && n <= SIZE_MAX / VAULT_ID_RANDOM_BYTES ? malloc(n * VAULT_ID_RANDOM_BYTES) : NULL;
    if (r != NULL) {
        randombytes_buf(r, n * VAULT_ID_RANDOM_BYTES);
        qsort(r, n, VAULT_ID_RANDOM_BYTES, cmp_id_random);
    }
    return r;
}

/* An id from 80 random bits: the alphabet is in ASCII order, so ids sort as their bits do. */
void
vault_id_from_random(char *out, const char *prefix, const unsigned char r[VAULT_ID_RANDOM_BYTES])
{
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    char body[17];
    /* 80 random bits as 16 base32 characters. */
    for (int i = 0; i < 16; i++) {
        int bit = i * 5;
        int v = (r[bit / 8] << 8 | (bit / 8 + 1 < 10 ? r[bit / 8 + 1] : 0)) >> (11 - bit % 8);
        body[i] = alphabet[v & 31];
    }
    body[16] = '\0';
    /* prefix "_" body, as snprintf("%s_%s") would cut it, without a format (two per record) */
    size_t pl = strnlen(prefix, DFT_ID_MAX - 1);
    size_t bl = pl + 1 < DFT_ID_MAX ? DFT_ID_MAX - 1 - pl - 1 : 0;
    memcpy(out, prefix, pl);
    if (pl + 1 < DFT_ID_MAX) {
        out[pl] = '_';
        memcpy(out + pl + 1, body, bl < 16 ? bl : 16);
        out[pl + 1 + (bl < 16 ? bl : 16)] = '\0';
    } else {
        out[pl] = '\0';
    }
}

static enum dft_err vault_paths_layout(struct dft_vault *v, const char *dir,
                                       const struct vault_layout *l, struct dft_error *err);

static enum dft_err
vault_paths(struct dft_vault *v, const char *dir, struct dft_error *err)
{
    enum dft_err rc;
    struct vault_layout l;
    if (snprintf(v->dir, sizeof v->dir, "%s", dir) >= (int)sizeof v->dir) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long");
    }
    if ((rc = vault_layout_find(dir, &l, err)) != DFT_OK) {
        return rc;
    }
    return vault_paths_layout(v, dir, &l, err);
}

/* The paths of a vault at dir in layout l (camouflage.c names the files). */
static enum dft_err
vault_paths_layout(struct dft_vault *v, const char *dir, const struct vault_layout *l,
                   struct dft_error *err)
{
    enum dft_err rc;
    if (snprintf(v->dir, sizeof v->dir, "%s", dir) >= (int)sizeof v->dir) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "vault path too long");
    }
    if ((rc = vault_layout_path(l, dir, VAULT_FILE_HEADER, v->header_path, sizeof v->header_path,
                                err)) != DFT_OK ||
        (rc = vault_layout_path(l, dir, VAULT_FILE_DB0, v->db_path, sizeof v->db_path, err)) !=
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

/*
 * A compartment's database at path under k, with its tables and the empty log's sealed state
 * in state (both compartments' stores are made this way).
 */
enum dft_err
vault_store_create(const char *path, const struct dft_keys *k,
                   unsigned char state[DFT_TLOG_STATE_BYTES], struct dft_error *err)
{
    struct dft_vault *v = calloc(1, sizeof *v);
    enum dft_err rc;
    if (v == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    if ((rc = store_open(&v->db, path, k->page_key, k->vault_id, DFT_STORE_CREATE, err)) ==
            DFT_OK &&
        (rc = vault_setup_db(v, err)) == DFT_OK) {
        /* The empty tree's state is sealed from the start; the database says so (tlog_meta). */
        struct dft_tlog_state empty = {.size = 0};
        tlog_hash_empty(empty.root);
        tlog_state_seal(state, &empty, k->state_key, k->vault_id);
        rc = tlog_state_mark(v->db, err);
    }
    store_close(v->db);
    if (rc != DFT_OK) {
        char wal[PATH_MAX + 8];
        unlink(path);
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
    }
    free(v);
    return rc;
}

enum dft_err
dft_vault_create(const char *dir, const char *pass, size_t pass_len, enum dft_kdf_level level,
                 struct dft_error *err)
{
    return vault_create_in(dir, NULL, pass, pass_len, level, err);
}

enum dft_err
vault_create_in(const char *dir, const char *camouflage, const char *pass, size_t pass_len,
                enum dft_kdf_level level, struct dft_error *err)
{
    enum dft_err rc = dft_crypto_init(err);
    struct dft_vault *v = NULL;
    struct vault_layout l;
    char objects[PATH_MAX], db1[PATH_MAX];
    int made_db0 = 0, made_objects = 0;
    memset(&l, 0, sizeof l);
    if (rc != DFT_OK) {
        return rc;
    }
    if (pass_len == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "the passphrase is empty");
    }
    if (camouflage != NULL) {
        if ((rc = camouflage_check_name(camouflage, err)) != DFT_OK) {
            return rc;
        }
        snprintf(l.stem, sizeof l.stem, "%s", camouflage);
    }
    if (!dir_is_empty_or_absent(dir)) {
        struct vault_layout found;
        char hp[PATH_MAX];
        struct stat st;
        if (vault_layout_find(dir, &found, NULL) == DFT_OK &&
            vault_layout_path(&found, dir, VAULT_FILE_HEADER, hp, sizeof hp, NULL) == DFT_OK &&
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
    if ((rc = vault_paths_layout(v, dir, &l, err)) != DFT_OK ||
        (rc = vault_layout_path(&l, dir, VAULT_FILE_OBJECTS, objects, sizeof objects, err)) !=
            DFT_OK ||
        (rc = vault_layout_path(&l, dir, VAULT_FILE_DB1, db1, sizeof db1, err)) != DFT_OK ||
        (rc = header_create(&v->header, v->keys, pass, pass_len, level, err)) != DFT_OK) {
        goto out;
    }
    if ((rc = vault_store_create(v->db_path, v->keys, v->header.state, err)) != DFT_OK) {
        goto out;
    }
    made_db0 = 1;
    v->header.state_len = DFT_TLOG_STATE_BYTES;
    if (mkdir(objects, 0700) != 0 && errno != EEXIST) {
        rc = dft_fail(err, DFT_ERR_IO, "cannot create '%s': %s", objects, strerror(errno));
        goto out;
    }
    made_objects = 1;
    /* Compartment B exists from init on, dormant until `duress set --action decoy`. */
    if ((rc = duress_second_create(&v->header, db1, err)) != DFT_OK) {
        goto out;
    }
    /* The header goes last: a vault without one is not a vault, and creation can be retried. */
    rc = header_write(&v->header, v->header_path, err);
    if (rc == DFT_OK) {
        rc = dft_fsync_dir_of(dir, 1, err);
    }
out:
    if (v != NULL) {
        if (rc != DFT_OK) {
            char wal[PATH_MAX + 8];
            if (made_db0) {
                unlink(v->db_path);
                snprintf(wal, sizeof wal, "%s-wal", v->db_path);
                unlink(wal);
            }
            unlink(db1);
            if (made_objects) {
                rmdir(objects);
            }
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
    int lock = -1;
    if (v == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "out of memory");
    }
    v->keys = keys_new();
    if (v->keys == NULL) {
        rc = dft_fail(err, DFT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = vault_paths(v, dir, err)) != DFT_OK ||
        (rc = vault_dir_lock(v, &lock, err)) != DFT_OK) {
        goto out;
    }
    /* Every unlock rewrites the header (key slots), right or wrong, under the directory lock. */
    rc = header_read(&v->header, v->header_path, err);
    if (rc == DFT_OK) {
        rc = header_unlock_at(&v->header, v->keys, pass, pass_len, v->header_path, err);
    }
    vault_dir_unlock(lock);
    if (rc == DFT_OK && v->header.store == 1) { /* the second compartment (duress decoy) */
        struct vault_layout l;
        vault_layout_of_header(v->header_path, &l);
        rc = vault_layout_path(&l, dir, VAULT_FILE_DB1, v->db_path, sizeof v->db_path, err);
    }
    if (rc == DFT_OK) {
        rc = vault_rekey_recover(v, err);
    }
    if (rc != DFT_OK) {
        goto out;
    }
    if (access(v->db_path, F_OK) != 0) {
        rc = dft_fail(err, DFT_ERR_INTEGRITY, "vault database '%s' is missing", v->db_path);
        goto out;
    }
    if ((rc = store_open(&v->db, v->db_path, v->keys->page_key, v->keys->vault_id, 0, err)) !=
            DFT_OK ||
        (rc = vault_rekey_load_keys(v, err)) != DFT_OK || (rc = vault_setup_db(v, err)) != DFT_OK ||
        (rc = vault_state_check(v, err)) != DFT_OK) {
        goto out;
    }
    dft_b64_encode(v->author, v->keys->sign_pk, DFT_SIGN_PK_BYTES);
    /* The database lock is ours now: temporary objects left by a crashed import can go. */
    char objects[PATH_MAX];
    size_t swept = 0;
    if (vault_objects_path(dir, v->header_path, objects, sizeof objects, NULL) == DFT_OK &&
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
    if (v->refs > 0) { /* another holder keeps it open (src/vault/refs.c) */
        v->refs--;
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
        header_attach(&disk, &v->header, NULL) == DFT_OK) {
        h = disk; /* the slots as they are now (other compartments, spares, states) */
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
