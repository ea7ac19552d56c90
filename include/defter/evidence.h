/*
 * evidence.h - encrypted, deduplicated evidence objects (the files under <vault>/objects/).
 *
 * An import reads a file exactly once. In the same pass it computes the SHA-256 of the
 * plaintext and encrypts it in fixed-size chunks with AES-256-GCM under a random per-file key;
 * hashing and encryption run on two threads. The file key (and the plaintext SHA-256) are
 * wrapped with keys->object_key. The object id is a keyed hash of the content (dedup_key), so
 * identical content is stored once and a holder of the chunks cannot test for a known file.
 * Layout and constructions: docs/evidence-format.md.
 *
 * This layer knows nothing about records or the operation log: the vault records an import as
 * an operation. It never writes plaintext to disk except to the caller's OUT file of an
 * extract, and never leaves a partial object or a partial OUT behind on failure.
 *
 * Errors: DFT_ERR_NOT_FOUND (missing file or object), DFT_ERR_INPUT (not a regular file, file
 * changed during import), DFT_ERR_IO (the system refused), DFT_ERR_INTEGRITY (an object was
 * tampered with or damaged), DFT_ERR_TOO_LARGE (above DFT_EVIDENCE_SIZE_MAX), DFT_ERR_NOMEM,
 * DFT_ERR_CRYPTO.
 */
#ifndef DEFTER_EVIDENCE_H
#define DEFTER_EVIDENCE_H

#include <stdint.h>

#include <jansson.h>

#include "defter/core.h"
#include "defter/crypto.h"

#define DFT_EVIDENCE_CHUNK_BYTES  (1u << 20) /* plaintext bytes per chunk (the last may be less) */
#define DFT_EVIDENCE_TAG_BYTES    16         /* GCM tag after each chunk's ciphertext */
#define DFT_EVIDENCE_HEADER_BYTES 184        /* fixed object header, see docs/evidence-format.md */
#define DFT_EVIDENCE_SIZE_MAX     (UINT64_C(1) << 42) /* 4 TiB per file */
#define DFT_OBJECT_ID_BYTES       32
#define DFT_OBJECT_HEX_BYTES      65 /* 64 hex digits and NUL */
#define DFT_SHA256_HEX_BYTES      65
#define DFT_MIME_MAX              128

/* Called after each chunk with bytes done so far and the total (from the main thread). */
typedef void (*dft_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* What an import learnt about a file. */
struct dft_evidence_info {
    char object[DFT_OBJECT_HEX_BYTES];     /* object id, lower-case hex */
    unsigned char sha256[DFT_HASH_BYTES];  /* SHA-256 of the plaintext */
    char sha256_hex[DFT_SHA256_HEX_BYTES]; /* the same as sha256sum prints it */
    uint64_t size;                         /* plaintext bytes */
    char mime[DFT_MIME_MAX];               /* libmagic MIME type, e.g. "image/jpeg" */
    json_t *meta;                          /* capture metadata object (may be empty); owned */
    int created;                           /* 1: a new object was stored; 0: deduplicated */
};

/* Release info->meta; the rest is plain data. NULL allowed. */
DFT_EXPORT void dft_evidence_info_release(struct dft_evidence_info *info);

/*
 * Import the file at path into objects_dir (created 0700 if missing). On success info is
 * filled (release it with dft_evidence_info_release) and the object is durable (file and
 * directories fsynced). When an object with the same content exists, nothing new is stored
 * and info->created is 0. On failure nothing is left in objects_dir. progress may be NULL.
 */
DFT_EXPORT enum dft_err dft_evidence_import(const char *objects_dir, const struct dft_keys *keys,
                                            const char *path, dft_progress_fn progress,
                                            void *progress_ctx, struct dft_evidence_info *info,
                                            struct dft_error *err) DFT_MUST_CHECK;

/* An open object: header checked and file key unwrapped (held in sodium_malloc memory). */
struct dft_evidence_obj;

/*
 * Open object (hex id) for reading. Checks the header authenticates under keys, names the
 * same object as the file name, and the file length fits the header's size.
 */
DFT_EXPORT enum dft_err dft_evidence_open(struct dft_evidence_obj **out, const char *objects_dir,
                                          const struct dft_keys *keys, const char *object,
                                          struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT void dft_evidence_close(struct dft_evidence_obj *o); /* NULL allowed; wipes the key */
DFT_EXPORT uint64_t dft_evidence_size(const struct dft_evidence_obj *o);
/* The plaintext SHA-256 recorded in the (authenticated) header. */
DFT_EXPORT void dft_evidence_sha256(const struct dft_evidence_obj *o,
                                    unsigned char out[DFT_HASH_BYTES]);

/*
 * Decrypt up to len bytes from plaintext offset off into buf (for range requests, e.g. video
 * seeking): only the chunks covering the range are read, each checked. *n_out is the number
 * of bytes written (less than len only at the end of the file; 0 at or past the end).
 */
DFT_EXPORT enum dft_err dft_evidence_read(struct dft_evidence_obj *o, uint64_t off, void *buf,
                                          size_t len, size_t *n_out,
                                          struct dft_error *err) DFT_MUST_CHECK;

/*
 * Decrypt object to out_path. Writes a sibling temporary file (O_EXCL, 0600), checks every
 * chunk and the whole SHA-256 (against the header and, when expected is not NULL, against
 * expected), then fsyncs and renames it to out_path (replacing a file there). On failure the
 * temporary file is removed and out_path is untouched. sha_out (may be NULL) gets the SHA-256.
 */
DFT_EXPORT enum dft_err
dft_evidence_extract(const char *objects_dir, const struct dft_keys *keys, const char *object,
                     const unsigned char *expected, /* NULL: header only */
                     const char *out_path, dft_progress_fn progress, void *progress_ctx,
                     unsigned char sha_out[DFT_HASH_BYTES], struct dft_error *err) DFT_MUST_CHECK;

enum dft_evidence_verify_flags {
    DFT_EVIDENCE_QUICK = 1 << 0, /* header, length and last chunk only: no full decrypt/rehash */
};

/*
 * Check an object: full (default) decrypts every chunk, recomputes SHA-256 and the object id
 * and compares them with the header (and expected when not NULL); DFT_EVIDENCE_QUICK checks
 * the header, the file length and the final chunk's tag. DFT_ERR_INTEGRITY on any mismatch.
 */
DFT_EXPORT enum dft_err dft_evidence_verify(const char *objects_dir, const struct dft_keys *keys,
                                            const char *object, const unsigned char *expected,
                                            unsigned flags, struct dft_error *err) DFT_MUST_CHECK;

/* ---- object header (exposed for the fuzz harness and tests) ---- */

struct dft_evidence_header {
    uint32_t chunk_bytes; /* plaintext bytes per chunk */
    uint64_t size;        /* plaintext bytes: 0 after parse (the size is inside the wrap) */
    unsigned char id[DFT_OBJECT_ID_BYTES]; /* object id (keyed hash of the content) */
    unsigned char uid[16];                 /* random per import; bound into every chunk */
    unsigned char nonce[24];               /* XChaCha20-Poly1305 nonce of the wrapped key */
    unsigned char wrapped[88];             /* file key ‖ SHA-256 ‖ size, sealed, with tag */
};

/* Parse and range-check the fixed header (no key needed). DFT_ERR_INTEGRITY when malformed. */
DFT_EXPORT enum dft_err dft_evidence_header_parse(struct dft_evidence_header *h,
                                                  const unsigned char *p, size_t n,
                                                  struct dft_error *err) DFT_MUST_CHECK;

/*
 * Unwrap the file key and plaintext SHA-256 of a parsed header (the raw bytes p authenticate
 * the header fields). file_key should be locked memory. DFT_ERR_INTEGRITY on failure.
 */
DFT_EXPORT enum dft_err dft_evidence_header_unwrap(const unsigned char *p, size_t n,
                                                   const unsigned char object_key[DFT_KEY_BYTES],
                                                   unsigned char file_key[DFT_KEY_BYTES],
                                                   unsigned char sha256[DFT_HASH_BYTES],
                                                   struct dft_error *err) DFT_MUST_CHECK;

/* Number of chunks of a size (at least 1: an empty file has one empty final chunk). */
DFT_EXPORT uint64_t dft_evidence_chunk_count(uint64_t size, uint32_t chunk_bytes);

/*
 * Test hook: make the nth file-system call (write, fsync, rename...) from now on in this
 * subsystem fail with errnum (ENOSPC, EIO). 0 disables. Not for production use.
 */
DFT_EXPORT void dft_evidence_fault_set(unsigned nth, int errnum);

/* ---- evidence in a vault: operations and chain of custody (src/evidence/vault_ops.c) ---- */

struct dft_vault;

/*
 * Import every file of paths into the vault's objects and record one "evidence" operation per
 * file on record (all in one envelope): all or none. *out gets [{"id","sha256","size"}] in
 * input order. On failure no operation is recorded and objects this call created are removed.
 * DFT_ERR_NOT_FOUND when record does not exist.
 */
DFT_EXPORT enum dft_err dft_evidence_attach(struct dft_vault *v, const char *record,
                                            const char *const *paths, size_t n,
                                            dft_progress_fn progress, void *progress_ctx,
                                            json_t **out, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Extract evidence evid to out_path (see dft_evidence_extract), checked against the SHA-256
 * recorded at import, and record a custody operation {"event":"extract"}. sha_out may be NULL.
 */
DFT_EXPORT enum dft_err dft_evidence_extract_id(struct dft_vault *v, const char *evid,
                                                const char *out_path, dft_progress_fn progress,
                                                void *progress_ctx,
                                                unsigned char sha_out[DFT_HASH_BYTES],
                                                struct dft_error *err) DFT_MUST_CHECK;

/*
 * Verify every object the vault's live evidence uses (flags: DFT_EVIDENCE_QUICK). *report
 * gets {"objects":N,"evidence":M,"quick":bool}. DFT_ERR_INTEGRITY names the first bad one.
 */
DFT_EXPORT enum dft_err dft_evidence_verify_vault(struct dft_vault *v, unsigned flags,
                                                  json_t **report,
                                                  struct dft_error *err) DFT_MUST_CHECK;

/* ---- streaming import: evidence pushed in pieces, e.g. an HTTP upload (src/evidence/stream.c) */

/*
 * A writer hashes and encrypts each piece as it arrives (one pass, the same object format as
 * dft_evidence_import), holding at most one chunk of plaintext in memory (wiped on release).
 * The ciphertext goes to a temporary 0600 file in objects_dir; nothing is placed until
 * dft_evidence_writer_finish. The vault keys are needed only by finish, so a writer can be
 * open while the vault is locked and reopened.
 */
struct dft_evidence_writer;

/* Start an object of at most max plaintext bytes (capped at DFT_EVIDENCE_SIZE_MAX). */
DFT_EXPORT enum dft_err dft_evidence_writer_open(struct dft_evidence_writer **out,
                                                 const char *objects_dir, uint64_t max,
                                                 struct dft_error *err) DFT_MUST_CHECK;
/*
 * Add n bytes. DFT_ERR_TOO_LARGE past the cap (nothing of this call is added). After any
 * failure the writer only accepts dft_evidence_writer_abort (finish fails too).
 */
DFT_EXPORT enum dft_err dft_evidence_writer_write(struct dft_evidence_writer *w, const void *p,
                                                  size_t n, struct dft_error *err) DFT_MUST_CHECK;
/* Plaintext bytes accepted so far. */
DFT_EXPORT uint64_t dft_evidence_writer_size(const struct dft_evidence_writer *w);
/*
 * The end of the content: seal the last chunk, wrap the file key under keys, fsync and place
 * the object (dedup as dft_evidence_import: info->created 0 when it existed). Frees w in every
 * case; on failure nothing is left in objects_dir and info is zeroed.
 */
DFT_EXPORT enum dft_err dft_evidence_writer_finish(struct dft_evidence_writer *w,
                                                   const struct dft_keys *keys,
                                                   struct dft_evidence_info *info,
                                                   struct dft_error *err) DFT_MUST_CHECK;
/* Drop an unfinished writer: the temporary file goes, plaintext is wiped. NULL allowed. */
DFT_EXPORT void dft_evidence_writer_abort(struct dft_evidence_writer *w);

/*
 * Record an object a writer stored (info from dft_evidence_writer_finish) as evidence on
 * record, with the file name name (not UTF-8 or empty: a placeholder), as one "evidence"
 * operation. *out gets {"id","sha256","size"}. On failure no operation is recorded and, when
 * info->created, the object is removed (info->created becomes 0). DFT_ERR_NOT_FOUND when
 * record does not exist.
 */
DFT_EXPORT enum dft_err dft_evidence_attach_written(struct dft_vault *v, const char *record,
                                                    const char *name,
                                                    struct dft_evidence_info *info, json_t **out,
                                                    struct dft_error *err) DFT_MUST_CHECK;

/*
 * Remove temporary object files (".tmp-*") that an import interrupted by a crash left in
 * objects_dir. They hold ciphertext only and were never recorded. Call only while holding the
 * vault (its database lock), so no import of another process is under way.
 */
DFT_EXPORT enum dft_err dft_evidence_sweep(const char *objects_dir, size_t *removed,
                                           struct dft_error *err) DFT_MUST_CHECK;

#endif
