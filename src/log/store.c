/*
 * store.c - the Merkle tree's node store in the vault database: table tlog_nodes holds the hash
 * of every complete subtree, so appending and proving read O(log n) stored nodes.
 *
 * Node (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level). A subtree that is not
 * complete (the right edge of a tree whose size is not a power of two) is never stored: it is
 * computed from the O(log n) complete subtrees that cover it. This file never opens, begins or
 * commits a transaction (the vault owns them) and never trusts a stored hash that is not 32
 * bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store.h"
#include "log/tlog.h"

#define H DFT_TLOG_HASH_BYTES

/*
 * Node (level, idx) is row id = idx * 2^(level + 1) + 2^level - 1: its in-order position in the
 * tree (leaf i is 2i, their parent 2i + 1...). Every subtree is a contiguous range of ids, so
 * the low levels of a proof, which hold most of its nodes, share a few B-tree pages, and rowid
 * lookups are SQLite's cheapest. Below 2^62 leaves every id fits a signed 64-bit integer.
 */
static const char sql_get[] = "SELECT hash FROM tlog_nodes WHERE id = ?1";
static const char sql_put[] = "INSERT INTO tlog_nodes(id, hash) VALUES (?1, ?2)";
static const char sql_last[] = "SELECT max(id) FROM tlog_nodes";

static sqlite3_int64
node_id(unsigned level, uint64_t idx)
{
    return (sqlite3_int64)((idx << (level + 1)) + ((uint64_t)1 << level) - 1);
}

/* The previous layout (level, idx, hash) WITHOUT ROWID: moved into the in-order ids once. */
static const char sql_migrate[] =
    "ALTER TABLE tlog_nodes RENAME TO tlog_nodes_v1;"
    "CREATE TABLE tlog_nodes(id INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
    "INSERT INTO tlog_nodes(id, hash) SELECT (idx << (level + 1)) + (1 << level) - 1, hash"
    " FROM tlog_nodes_v1 ORDER BY 1;" /* bad rows stay, for verify to report */
    "DROP TABLE tlog_nodes_v1";

enum dft_err
tlog_setup(sqlite3 *db, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    int old = 0;
    int src = sqlite3_prepare_v2(db,
                                 "SELECT 1 FROM pragma_table_info('tlog_nodes') WHERE name = "
                                 "'level'",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
        old = src == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        return store_error(db, src, "transparency log", err);
    }
    if (old) {
        enum dft_err rc = store_exec(db, sql_migrate, err);
        if (rc != DFT_OK) {
            return rc;
        }
    }
    return store_exec(db,
                      "CREATE TABLE IF NOT EXISTS tlog_nodes("
                      "id INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
                      "CREATE TABLE IF NOT EXISTS tlog_meta("
                      "key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;"
                      "CREATE TABLE IF NOT EXISTS tlog_cosigned("
                      "size INTEGER PRIMARY KEY, note BLOB NOT NULL, imported TEXT NOT NULL)",
                      err);
}

static enum dft_err
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct dft_error *err)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return store_error(db, rc, "transparency log", err);
    }
    return DFT_OK;
}

/* Read node (level, idx) into out; DFT_ERR_INTEGRITY when absent or not 32 bytes. */
static enum dft_err
get_node(sqlite3 *db, sqlite3_stmt *st, unsigned level, uint64_t idx, unsigned char out[H],
         struct dft_error *err)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, node_id(level, idx));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_BLOB || sqlite3_column_bytes(st, 0) != H) {
            sqlite3_reset(st);
            return dft_fail(err, DFT_ERR_INTEGRITY,
                            "transparency log: node %u/%llu is not a 32-byte hash", level,
                            (unsigned long long)idx);
        }
        memcpy(out, sqlite3_column_blob(st, 0), H);
        sqlite3_reset(st);
        return DFT_OK;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "transparency log: node %u/%llu is missing", level,
                        (unsigned long long)idx);
    }
    return store_error(db, rc, "transparency log", err);
}

static enum dft_err
put_node(sqlite3 *db, sqlite3_stmt *st, unsigned level, uint64_t idx, const unsigned char h[H],
         struct dft_error *err)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, node_id(level, idx));
    sqlite3_bind_blob(st, 2, h, H, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE) {
        return DFT_OK;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "transparency log: node %u/%llu already exists",
                        level, (unsigned long long)idx);
    }
    return store_error(db, rc, "transparency log", err);
}

static enum dft_err
read_size(sqlite3 *db, sqlite3_stmt *st, uint64_t *size, struct dft_error *err)
{
    sqlite3_reset(st);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return store_error(db, rc, "transparency log", err);
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        sqlite3_reset(st);
        *size = 0;
        return DFT_OK;
    }
    /* The largest id is always the last leaf's (2i): any node ends at a leaf after it. */
    sqlite3_int64 last = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (last < 0 || (last & 1) != 0 || (uint64_t)last / 2 >= DFT_TLOG_SIZE_MAX) {
        return dft_fail(err, DFT_ERR_INTEGRITY, "transparency log: impossible last node %lld",
                        (long long)last);
    }
    *size = (uint64_t)last / 2 + 1;
    return DFT_OK;
}

/* ---- appending ---- */

struct dft_tlog_writer {
    sqlite3 *db;
    sqlite3_stmt *get;
    sqlite3_stmt *put;
    sqlite3_stmt *last;
};

enum dft_err
tlog_writer_open(sqlite3 *db, struct dft_tlog_writer **out, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct dft_tlog_writer *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "transparency log: out of memory");
    }
    w->db = db;
    if ((rc = prepare(db, sql_get, &w->get, err)) != DFT_OK ||
        (rc = prepare(db, sql_put, &w->put, err)) != DFT_OK ||
        (rc = prepare(db, sql_last, &w->last, err)) != DFT_OK) {
        tlog_writer_close(w);
        return rc;
    }
    *out = w;
    return DFT_OK;
}

void
tlog_writer_close(struct dft_tlog_writer *w)
{
    if (w == NULL) {
        return;
    }
    sqlite3_finalize(w->get);
    sqlite3_finalize(w->put);
    sqlite3_finalize(w->last);
    free(w);
}

enum dft_err
tlog_writer_append(struct dft_tlog_writer *w, uint64_t index, const unsigned char leaf_hash[32],
                   struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    uint64_t size = 0;
    if ((rc = read_size(w->db, w->last, &size, err)) != DFT_OK) {
        return rc;
    }
    if (index != size) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "transparency log: appending leaf %llu to a tree of size %llu",
                        (unsigned long long)index, (unsigned long long)size);
    }
    if (index + 1 >= DFT_TLOG_SIZE_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "transparency log: tree is full");
    }
    if ((rc = put_node(w->db, w->put, 0, index, leaf_hash, err)) != DFT_OK) {
        return rc;
    }
    /* Each right child closes its parent: hash it with the stored left sibling, upwards. */
    unsigned char h[H];
    unsigned char left[H];
    memcpy(h, leaf_hash, H);
    uint64_t i = index;
    unsigned level = 0;
    while ((i & 1) != 0) {
        if ((rc = get_node(w->db, w->get, level, i - 1, left, err)) != DFT_OK) {
            return rc;
        }
        tlog_hash_node(h, left, h);
        i >>= 1;
        level++;
        if ((rc = put_node(w->db, w->put, level, i, h, err)) != DFT_OK) {
            return rc;
        }
    }
    return DFT_OK;
}

enum dft_err
tlog_append(sqlite3 *db, uint64_t index, const unsigned char leaf_hash[32], struct dft_error *err)
{
    struct dft_tlog_writer *w = NULL;
    enum dft_err rc = tlog_writer_open(db, &w, err);
    if (rc != DFT_OK) {
        return rc;
    }
    rc = tlog_writer_append(w, index, leaf_hash, err);
    tlog_writer_close(w);
    return rc;
}

/* ---- reading ---- */

enum dft_err
tlog_size(sqlite3 *db, uint64_t *size, struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    enum dft_err rc = prepare(db, sql_last, &st, err);
    if (rc == DFT_OK) {
        rc = read_size(db, st, size, err);
    }
    sqlite3_finalize(st);
    return rc;
}

enum dft_err
tlog_leaf(sqlite3 *db, uint64_t index, unsigned char out[32], struct dft_error *err)
{
    sqlite3_stmt *st = NULL;
    uint64_t size = 0;
    enum dft_err rc = tlog_size(db, &size, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (index >= size) {
        return dft_fail(err, DFT_ERR_NOT_FOUND, "no log entry %llu (log size %llu)",
                        (unsigned long long)index, (unsigned long long)size);
    }
    if ((rc = prepare(db, sql_get, &st, err)) == DFT_OK) {
        rc = get_node(db, st, 0, index, out, err);
    }
    sqlite3_finalize(st);
    return rc;
}

/*
 * A reader keeps the nodes of the upper levels it has read in a small direct-mapped cache: a
 * complete subtree's hash never changes once stored, and random proofs keep coming back to the
 * few thousand nodes of those levels (at 1M leaves, levels 8 and up hold 7,800 nodes), which
 * halves the SQLite lookups of a proof. The lower levels, rarely read twice, are not cached.
 */
#define CACHE_LEVEL 8
#define CACHE_SLOTS 8192 /* 8192 * 40 bytes, allocated on first use */

struct cache_slot {
    sqlite3_int64 id; /* 0 when empty (id 0 is a leaf, never cached) */
    unsigned char hash[H];
};

struct dft_tlog_reader {
    sqlite3 *db;
    sqlite3_stmt *get;
    sqlite3_stmt *last;
    struct cache_slot *cache;
};

static enum dft_err
reader_node(struct dft_tlog_reader *r, unsigned level, uint64_t idx, unsigned char out[H],
            struct dft_error *err)
{
    if (level < CACHE_LEVEL) {
        return get_node(r->db, r->get, level, idx, out, err);
    }
    sqlite3_int64 id = node_id(level, idx);
    if (r->cache == NULL) {
        r->cache = calloc(CACHE_SLOTS, sizeof *r->cache);
    }
    struct cache_slot *slot =
        r->cache != NULL ? &r->cache[((uint64_t)id * 0x9e3779b97f4a7c15u) >> 51] : NULL;
    if (slot != NULL && slot->id == id) {
        memcpy(out, slot->hash, H);
        return DFT_OK;
    }
    enum dft_err rc = get_node(r->db, r->get, level, idx, out, err);
    if (rc == DFT_OK && slot != NULL) {
        slot->id = id;
        memcpy(slot->hash, out, H);
    }
    return rc;
}

/*
 * Hash of the RFC 6962 subtree over leaves [start, end), where start is a multiple of the
 * largest power of two not above end - start (true of every subtree a proof names): the
 * complete subtrees covering it, largest first, folded from the right.
 */
static enum dft_err
range_hash(struct dft_tlog_reader *r, uint64_t start, uint64_t end, unsigned char out[H],
           struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    unsigned char parts[64][H];
    unsigned nparts = 0;
    uint64_t len = end - start;
    uint64_t pos = start;
    DFT_ASSERT(len > 0);
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t span = (uint64_t)1 << bit;
        if ((len & span) == 0) {
            continue;
        }
        DFT_ASSERT(pos % span == 0);
        if ((rc = reader_node(r, (unsigned)bit, pos >> bit, parts[nparts], err)) != DFT_OK) {
            return rc;
        }
        nparts++;
        pos += span;
    }
    memcpy(out, parts[nparts - 1], H);
    for (unsigned k = nparts - 1; k-- > 0;) {
        tlog_hash_node(out, parts[k], out);
    }
    return DFT_OK;
}

/*
 * The path from node (level, index) up to the root of a tree of size leaves: the siblings
 * below the level where the path meets the right edge (the last may be incomplete), then the
 * left siblings above it. Appends to proof[*n].
 */
static enum dft_err
path(struct dft_tlog_reader *r, unsigned level, uint64_t index, uint64_t size,
     unsigned char (*proof)[32], size_t *n, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    uint64_t last = (size - 1) >> level;
    unsigned inner = index == last ? 0 : 64 - (unsigned)__builtin_clzll(index ^ last);
    for (unsigned l = 0; l < inner; l++) {
        uint64_t sib = (index >> l) ^ 1;
        unsigned abs = level + l;
        uint64_t start = sib << abs;
        uint64_t end = (sib + 1) << abs;
        if (end > size) {
            end = size;
        }
        if ((rc = range_hash(r, start, end, proof[(*n)++], err)) != DFT_OK) {
            return rc;
        }
    }
    for (unsigned l = inner; level + l < 63; l++) {
        if (((index >> l) & 1) != 0) {
            if ((rc = reader_node(r, level + l, (index >> l) ^ 1, proof[(*n)++], err)) != DFT_OK) {
                return rc;
            }
        }
    }
    return DFT_OK;
}

enum dft_err
tlog_reader_open(sqlite3 *db, struct dft_tlog_reader **out, struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    struct dft_tlog_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "transparency log: out of memory");
    }
    r->db = db;
    if ((rc = prepare(db, sql_get, &r->get, err)) != DFT_OK ||
        (rc = prepare(db, sql_last, &r->last, err)) != DFT_OK) {
        tlog_reader_close(r);
        return rc;
    }
    *out = r;
    return DFT_OK;
}

void
tlog_reader_close(struct dft_tlog_reader *r)
{
    if (r == NULL) {
        return;
    }
    sqlite3_finalize(r->get);
    sqlite3_finalize(r->last);
    free(r->cache);
    free(r);
}

static enum dft_err
check_size(struct dft_tlog_reader *r, uint64_t want, const char *what, struct dft_error *err)
{
    uint64_t size = 0;
    enum dft_err rc = read_size(r->db, r->last, &size, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (want > size) {
        return dft_fail(err, DFT_ERR_INPUT, "%s: size %llu is above the log size %llu", what,
                        (unsigned long long)want, (unsigned long long)size);
    }
    return DFT_OK;
}

enum dft_err
tlog_reader_root(struct dft_tlog_reader *r, uint64_t size, unsigned char root[32],
                 struct dft_error *err)
{
    enum dft_err rc = check_size(r, size, "cannot compute root", err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (size == 0) {
        tlog_hash_empty(root);
        return DFT_OK;
    }
    return range_hash(r, 0, size, root, err);
}

enum dft_err
tlog_reader_prove_inclusion(struct dft_tlog_reader *r, uint64_t index, uint64_t size,
                            unsigned char (*proof)[32], size_t *proof_len, struct dft_error *err)
{
    size_t n = 0;
    if (index >= size) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot prove: index %llu is not below size %llu",
                        (unsigned long long)index, (unsigned long long)size);
    }
    enum dft_err rc = check_size(r, size, "cannot prove", err);
    if (rc == DFT_OK) {
        rc = path(r, 0, index, size, proof, &n, err);
    }
    if (rc == DFT_OK) {
        DFT_ASSERT(n == tlog_inclusion_len(index, size));
        *proof_len = n;
    }
    return rc;
}

enum dft_err
tlog_reader_prove_consistency(struct dft_tlog_reader *r, uint64_t old_size, uint64_t new_size,
                              unsigned char (*proof)[32], size_t *proof_len, struct dft_error *err)
{
    size_t n = 0;
    if (old_size == 0) {
        return dft_fail(err, DFT_ERR_INPUT, "cannot prove consistency from the empty tree");
    }
    if (old_size > new_size) {
        return dft_fail(err, DFT_ERR_INPUT,
                        "cannot prove consistency: old size %llu is above new size %llu",
                        (unsigned long long)old_size, (unsigned long long)new_size);
    }
    enum dft_err rc = check_size(r, new_size, "cannot prove consistency", err);
    if (rc != DFT_OK || old_size == new_size) {
        *proof_len = 0;
        return rc;
    }
    /* The largest complete subtree ending at old_size, then its path in the new tree. */
    unsigned level = (unsigned)__builtin_ctzll(old_size);
    uint64_t index = (old_size - 1) >> level;
    if (index != 0) {
        rc = reader_node(r, level, index, proof[n++], err);
    }
    if (rc == DFT_OK) {
        rc = path(r, level, index, new_size, proof, &n, err);
    }
    if (rc == DFT_OK) {
        DFT_ASSERT(n == tlog_consistency_len(old_size, new_size));
        *proof_len = n;
    }
    return rc;
}

enum dft_err
tlog_root(sqlite3 *db, uint64_t size, unsigned char root[32], struct dft_error *err)
{
    struct dft_tlog_reader *r = NULL;
    enum dft_err rc = tlog_reader_open(db, &r, err);
    if (rc == DFT_OK) {
        rc = tlog_reader_root(r, size, root, err);
    }
    tlog_reader_close(r);
    return rc;
}

enum dft_err
tlog_prove_inclusion(sqlite3 *db, uint64_t index, uint64_t size, unsigned char (*proof)[32],
                     size_t *proof_len, struct dft_error *err)
{
    struct dft_tlog_reader *r = NULL;
    enum dft_err rc = tlog_reader_open(db, &r, err);
    if (rc == DFT_OK) {
        rc = tlog_reader_prove_inclusion(r, index, size, proof, proof_len, err);
    }
    tlog_reader_close(r);
    return rc;
}

enum dft_err
tlog_prove_consistency(sqlite3 *db, uint64_t old_size, uint64_t new_size,
                       unsigned char (*proof)[32], size_t *proof_len, struct dft_error *err)
{
    struct dft_tlog_reader *r = NULL;
    enum dft_err rc = tlog_reader_open(db, &r, err);
    if (rc == DFT_OK) {
        rc = tlog_reader_prove_consistency(r, old_size, new_size, proof, proof_len, err);
    }
    tlog_reader_close(r);
    return rc;
}

/* ---- full check ---- */

struct dft_tlog_check {
    sqlite3 *db;
    sqlite3_stmt *get;          /* one stored node by id */
    unsigned char stack[64][H]; /* complete subtrees of the leaves so far, left to right */
    unsigned stack_level[64];
    unsigned depth;
    uint64_t size;
    uint64_t nodes; /* stored nodes checked */
};

void
tlog_check_free(struct dft_tlog_check *c)
{
    if (c == NULL) {
        return;
    }
    sqlite3_finalize(c->get);
    free(c);
}

enum dft_err
tlog_check_begin(sqlite3 *db, struct dft_tlog_check **out, struct dft_error *err)
{
    struct dft_tlog_check *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return dft_fail(err, DFT_ERR_NOMEM, "transparency log: out of memory");
    }
    c->db = db;
    enum dft_err rc = prepare(db, sql_get, &c->get, err);
    if (rc != DFT_OK) {
        tlog_check_free(c);
        return rc;
    }
    *out = c;
    return DFT_OK;
}

/* The stored node (level, idx) must be there with hash h. */
static enum dft_err
check_node(struct dft_tlog_check *c, unsigned level, uint64_t idx, const unsigned char h[H],
           struct dft_error *err)
{
    unsigned char got[H];
    enum dft_err rc = get_node(c->db, c->get, level, idx, got, err);
    if (rc != DFT_OK) {
        return rc;
    }
    if (sodium_memcmp(got, h, H) != 0) {
        return dft_fail(err, DFT_ERR_INTEGRITY,
                        "transparency log: stored node %u/%llu does not match the envelopes", level,
                        (unsigned long long)idx);
    }
    c->nodes++;
    return DFT_OK;
}

enum dft_err
tlog_check_add(struct dft_tlog_check *c, const unsigned char leaf_hash[32], struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    if (c->size + 1 >= DFT_TLOG_SIZE_MAX) {
        return dft_fail(err, DFT_ERR_TOO_LARGE, "transparency log: tree is full");
    }
    uint64_t idx = c->size;
    unsigned level = 0;
    unsigned char h[H];
    memcpy(h, leaf_hash, H);
    if ((rc = check_node(c, 0, idx, h, err)) != DFT_OK) {
        return rc;
    }
    while (c->depth > 0 && c->stack_level[c->depth - 1] == level) {
        tlog_hash_node(h, c->stack[c->depth - 1], h);
        c->depth--;
        level++;
        idx >>= 1;
        if ((rc = check_node(c, level, idx, h, err)) != DFT_OK) {
            return rc;
        }
    }
    memcpy(c->stack[c->depth], h, H);
    c->stack_level[c->depth] = level;
    c->depth++;
    c->size++;
    return DFT_OK;
}

enum dft_err
tlog_check_finish(struct dft_tlog_check *c, uint64_t *size, unsigned char root[32],
                  struct dft_error *err)
{
    enum dft_err rc = DFT_OK;
    sqlite3_stmt *st = NULL;
    /* Every expected node was found; the same count means no other row is stored. */
    if ((rc = prepare(c->db, "SELECT count(*), min(id), max(id) FROM tlog_nodes", &st, err)) ==
        DFT_OK) {
        int src = sqlite3_step(st);
        if (src != SQLITE_ROW) {
            rc = store_error(c->db, src, "transparency log", err);
        } else if ((uint64_t)sqlite3_column_int64(st, 0) != c->nodes) {
            rc = dft_fail(err, DFT_ERR_INTEGRITY,
                          "transparency log: %lld stored nodes where the envelopes make %llu "
                          "(ids %lld to %lld)",
                          (long long)sqlite3_column_int64(st, 0), (unsigned long long)c->nodes,
                          (long long)sqlite3_column_int64(st, 1),
                          (long long)sqlite3_column_int64(st, 2));
        }
    }
    sqlite3_finalize(st);
    if (rc == DFT_OK) {
        if (size != NULL) {
            *size = c->size;
        }
        if (root != NULL) {
            if (c->depth == 0) {
                tlog_hash_empty(root);
            } else {
                unsigned char h[H];
                memcpy(h, c->stack[c->depth - 1], H);
                for (unsigned k = c->depth - 1; k-- > 0;) {
                    tlog_hash_node(h, c->stack[k], h);
                }
                memcpy(root, h, H);
            }
        }
    }
    tlog_check_free(c);
    return rc;
}
