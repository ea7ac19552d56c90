/*
 * storage.h - where `defter serve` keeps collections: one interface, several backends.
 *
 * A log store keeps each collection's entries (opaque bytes, with their RFC 9162 leaf hashes)
 * and its signed checkpoints: SQLite in --data DIR (store_sqlite.c) or PostgreSQL 15 through
 * libpq (--db postgresql://..., store_pg.c). A blob store keeps evidence chunks by name: files
 * under --data DIR (store_files.c) or an S3-compatible service through libcurl with
 * CURLOPT_AWS_SIGV4 (--objects s3://..., store_s3.c). Every backend runs every test.
 *
 * Calls on one store are serialized by the server (it holds a lock around them): backends need
 * not be thread-safe, but each call must be complete and durable when it returns DFT_OK, and a
 * failed call changes nothing (append is one transaction). Everything stored is ciphertext or
 * public (keys, roles, signed notes): backends never see plaintext.
 */
#ifndef DEFTER_SYNC_STORAGE_H
#define DEFTER_SYNC_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "defter/core.h"

#define SYNC_CID_MAX   64 /* collection id: 32 lower-case hex digits */
#define SYNC_CHUNK_MAX (4u * 1024u * 1024u + 4096u)

/* Called per entry by read; return nonzero to stop early (read then returns DFT_OK). */
typedef int (*sync_entry_fn)(void *ctx, uint64_t index, const unsigned char *body, size_t n,
                             const unsigned char leaf[32]);
typedef int (*sync_cid_fn)(void *ctx, const char *cid);

struct sync_log_ops {
    const char *name; /* "sqlite", "postgresql" */
    /* data_dir: --data DIR; url: --db value or NULL. */
    enum dft_err (*open)(void **self, const char *data_dir, const char *url, struct dft_error *err);
    void (*close)(void *self);
    /* New empty collection; DFT_ERR_INPUT if it exists. */
    enum dft_err (*create)(void *self, const char *cid, struct dft_error *err);
    /* Every collection id, for the server's start-up. */
    enum dft_err (*collections)(void *self, sync_cid_fn fn, void *ctx, struct dft_error *err);
    /*
     * Append count entries at the end, in order, in one durable transaction; *first receives
     * the index of the first. leaves[i] is the RFC 9162 leaf hash of bodies[i].
     */
    enum dft_err (*append)(void *self, const char *cid, size_t count,
                           const unsigned char *const *bodies, const size_t *lens,
                           const unsigned char (*leaves)[32], uint64_t *first,
                           struct dft_error *err);
    enum dft_err (*size)(void *self, const char *cid, uint64_t *size, struct dft_error *err);
    /* Entries [from, from + count) in order (fewer at the end of the log). */
    enum dft_err (*read)(void *self, const char *cid, uint64_t from, uint64_t count,
                         sync_entry_fn fn, void *ctx, struct dft_error *err);
    /* Leaf hashes [from, from + count) into out (count * 32 bytes); all must exist. */
    enum dft_err (*leaves)(void *self, const char *cid, uint64_t from, uint64_t count,
                           unsigned char (*out)[32], struct dft_error *err);
    /* Signed checkpoint notes: keep every one (a client may ask for an old size). */
    enum dft_err (*checkpoint_put)(void *self, const char *cid, uint64_t size, const char *note,
                                   size_t n, struct dft_error *err);
    /* The newest; DFT_ERR_NOT_FOUND when none. note is filled (dft_buf_init'd by caller). */
    enum dft_err (*checkpoint_latest)(void *self, const char *cid, uint64_t *size,
                                      struct dft_buf *note, struct dft_error *err);
};

struct sync_blob_ops {
    const char *name; /* "files", "s3" */
    /* data_dir: --data DIR; url: --objects value or NULL. */
    enum dft_err (*open)(void **self, const char *data_dir, const char *url, struct dft_error *err);
    void (*close)(void *self);
    /* Store a chunk durably; the same name twice keeps the first (names are content hashes). */
    enum dft_err (*put)(void *self, const char *cid, const char *name, const unsigned char *body,
                        size_t n, struct dft_error *err);
    /* DFT_ERR_NOT_FOUND when absent; out is filled (dft_buf_init'd by caller). */
    enum dft_err (*get)(void *self, const char *cid, const char *name, struct dft_buf *out,
                        struct dft_error *err);
};

/*
 * The backends for --db and --objects (NULL: SQLite and files in --data DIR). DFT_ERR_USAGE
 * for a URL of another scheme.
 */
enum dft_err sync_storage_pick(const char *db_url, const char *objects_url,
                               const struct sync_log_ops **log, const struct sync_blob_ops **blob,
                               struct dft_error *err) DFT_MUST_CHECK;

extern const struct sync_log_ops sync_log_sqlite;
extern const struct sync_log_ops sync_log_pg;
extern const struct sync_blob_ops sync_blob_files;
extern const struct sync_blob_ops sync_blob_s3;

#endif
