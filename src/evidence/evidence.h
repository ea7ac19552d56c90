/*
 * evidence.h - the evidence object layer's interface for the vault (internal: not in include/).
 *
 * Everything here takes the objects directory and the vault keys (only object_key and
 * dedup_key are used); the vault (src/vault/evidence.c) supplies both. The verbs on an open
 * object and on an upload writer, which carry no key, are public in defter/evidence.h.
 */
#ifndef DEFTER_EVIDENCE_EVIDENCE_H
#define DEFTER_EVIDENCE_EVIDENCE_H

#include <stdint.h>

#include <jansson.h>

#include "crypto/keys.h"
#include "defter/evidence.h"

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
void evidence_info_release(struct dft_evidence_info *info);

/*
 * Import the file at path into objects_dir (created 0700 if missing). On success info is
 * filled (release it with evidence_info_release) and the object is durable (file and
 * directories fsynced). When an object with the same content exists, nothing new is stored
 * and info->created is 0. On failure nothing is left in objects_dir. progress may be NULL.
 */
enum dft_err evidence_import(const char *objects_dir, const struct dft_keys *keys, const char *path,
                             dft_progress_fn progress, void *progress_ctx,
                             struct dft_evidence_info *info, struct dft_error *err) DFT_MUST_CHECK;

/*
 * Open object (hex id) for reading. Checks the header authenticates under keys, names the
 * same object as the file name, and the file length fits the header's size.
 */
enum dft_err evidence_open(struct dft_evidence_obj **out, const char *objects_dir,
                           const struct dft_keys *keys, const char *object,
                           struct dft_error *err) DFT_MUST_CHECK;
/*
 * Decrypt object to out_path. Writes a sibling temporary file (O_EXCL, 0600), checks every
 * chunk and the whole SHA-256 (against the header and, when expected is not NULL, against
 * expected), then fsyncs and renames it to out_path (replacing a file there). On failure the
 * temporary file is removed and out_path is untouched. sha_out (may be NULL) gets the SHA-256.
 */
enum dft_err evidence_extract(const char *objects_dir, const struct dft_keys *keys,
                              const char *object,
                              const unsigned char *expected, /* NULL: header only */
                              const char *out_path, dft_progress_fn progress, void *progress_ctx,
                              unsigned char sha_out[DFT_HASH_BYTES],
                              struct dft_error *err) DFT_MUST_CHECK;

enum evidence_verify_flags {
    EVIDENCE_QUICK = 1 << 0, /* header, length and last chunk only: no full decrypt/rehash */
};

/*
 * Check an object: full (default) decrypts every chunk, recomputes SHA-256 and the object id
 * and compares them with the header (and expected when not NULL); EVIDENCE_QUICK checks
 * the header, the file length and the final chunk's tag. DFT_ERR_INTEGRITY on any mismatch.
 */
enum dft_err evidence_verify(const char *objects_dir, const struct dft_keys *keys,
                             const char *object, const unsigned char *expected, unsigned flags,
                             struct dft_error *err) DFT_MUST_CHECK;

/* Start an object of at most max plaintext bytes (capped at DFT_EVIDENCE_SIZE_MAX). */
enum dft_err evidence_writer_open(struct dft_evidence_writer **out, const char *objects_dir,
                                  uint64_t max, struct dft_error *err) DFT_MUST_CHECK;
/*
 * The end of the content: seal the last chunk, wrap the file key under keys, fsync and place
 * the object (dedup as evidence_import: info->created 0 when it existed). Frees w in every
 * case; on failure nothing is left in objects_dir and info is zeroed.
 */
enum dft_err evidence_writer_finish(struct dft_evidence_writer *w, const struct dft_keys *keys,
                                    struct dft_evidence_info *info,
                                    struct dft_error *err) DFT_MUST_CHECK;
/* Remove the object hex from objects_dir (after a failed attach); 0 or -1. */
int evidence_remove(const char *objects_dir, const char *hex);

/*
 * Remove temporary object files (".tmp-*") that an import interrupted by a crash left in
 * objects_dir. They hold ciphertext only and were never recorded. Call only while holding the
 * vault (its database lock), so no import of another process is under way.
 */
enum dft_err evidence_sweep(const char *objects_dir, size_t *removed,
                            struct dft_error *err) DFT_MUST_CHECK;

/* ---- object header (exposed for the fuzz harness and tests) ---- */

struct dft_evidence_header {
    uint32_t chunk_bytes;                  /* plaintext bytes per chunk */
    uint64_t size;                         /* plaintext bytes */
    unsigned char id[DFT_OBJECT_ID_BYTES]; /* object id (keyed hash of the content) */
    unsigned char uid[16];                 /* random per import; bound into every chunk */
    unsigned char nonce[24];               /* XChaCha20-Poly1305 nonce of the wrapped key */
    unsigned char wrapped[88];             /* file key ‖ SHA-256 ‖ size, sealed, with tag */
};

/* Parse and range-check the fixed header (no key needed). DFT_ERR_INTEGRITY when malformed. */
enum dft_err evidence_header_parse(struct dft_evidence_header *h, const unsigned char *p, size_t n,
                                   struct dft_error *err) DFT_MUST_CHECK;

/*
 * Unwrap the file key and plaintext SHA-256 of a parsed header (the raw bytes p authenticate
 * the header fields). file_key should be locked memory. DFT_ERR_INTEGRITY on failure.
 */
enum dft_err evidence_header_unwrap(const unsigned char *p, size_t n,
                                    const unsigned char object_key[DFT_KEY_BYTES],
                                    unsigned char file_key[DFT_KEY_BYTES],
                                    unsigned char sha256[DFT_HASH_BYTES],
                                    struct dft_error *err) DFT_MUST_CHECK;

/* Number of chunks of a size (at least 1: an empty file has one empty final chunk). */
uint64_t evidence_chunk_count(uint64_t size, uint32_t chunk_bytes);

/*
 * Test hook: make the nth file-system call (write, fsync, rename...) from now on in this
 * subsystem fail with errnum (ENOSPC, EIO). 0 disables. Not for production use.
 */
void evidence_fault_set(unsigned nth, int errnum);

#endif
